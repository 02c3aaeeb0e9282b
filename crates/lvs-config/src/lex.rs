//! Stage 1: the pest grammar splits the text into lines and tokens.

use pest::Parser;
use pest_derive::Parser;

use crate::config::Quote;
use crate::diag::Span;

#[derive(Parser)]
#[grammar = "lvs.pest"]
struct LvsLexer;

/// One token of a line.
#[derive(Clone, Debug)]
pub(crate) struct Tok<'a> {
    /// The token without its quotes.
    pub text: &'a str,
    /// The quote it was written with.
    pub quote: Option<Quote>,
    /// The whole token, quotes included.
    pub span: Span,
    /// Quoted with its own quote inside (`"{"a":1}"`): Piranha's reading,
    /// the first and last character taken as the quotes.
    pub glued: bool,
}

/// One physical line, as handed to the parser.
#[derive(Clone, Debug)]
pub(crate) struct Line<'a, 'b> {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of the line's first byte.
    pub start: usize,
    /// Byte offset one past the line's end-of-line sequence.
    pub full_end: usize,
    /// The blanks before the first token.
    pub indent: &'a str,
    /// The tokens (empty for blank and comment lines).
    pub tokens: &'b [Tok<'a>],
    /// Where an unterminated or glued quote starts, if any.
    pub bad_quote: Option<Span>,
}

/// A line inside a lexed block; its tokens are a range of the block's token
/// vector (one allocation per block, not per line).
#[derive(Clone, Debug)]
struct RawLine<'a> {
    number: u32,
    start: usize,
    full_end: usize,
    indent: &'a str,
    tokens: std::ops::Range<usize>,
    bad_quote: Option<Span>,
}

fn col_of(text: &str, line_start: usize, pos: usize) -> u32 {
    let s = &text[line_start..pos];
    if s.is_ascii() {
        s.len() as u32 + 1
    } else {
        s.chars().count() as u32 + 1
    }
}

/// Lines per grammar run. The text is lexed in blocks of this many lines so
/// that pest's token queue stays small however large the file is (tokens
/// never span lines, so a block boundary at a line end changes nothing).
const BLOCK_LINES: usize = 2048;

/// Byte offset just past the `n`-th line break at or after `from` (a line
/// break is `\r\n`, `\n` or `\r`), or the end of the text.
fn after_lines(b: &[u8], from: usize, n: usize) -> usize {
    let mut i = from;
    let mut seen = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                i += 1;
                seen += 1;
            }
            b'\r' => {
                i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                seen += 1;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        if seen == n {
            return i;
        }
    }
    b.len()
}

/// The line grammar refused its input: a bug in the grammar, since every
/// text has a parse.
#[derive(Debug, thiserror::Error)]
#[error("internal lexer failure: {0}")]
pub(crate) struct GrammarBug(String);

/// Split `text` into lines and tokens, handing each line to `f` in order
/// until it returns `false`. Returns the number of the last line seen. The
/// grammar is total (every input has a parse), so an error here is an
/// internal grammar bug.
pub(crate) fn for_each_line<'a>(
    text: &'a str,
    f: impl FnMut(&Line<'a, '_>) -> bool,
) -> Result<u32, GrammarBug> {
    for_each_line_in(text, 0..text.len(), 0, f)
}

/// [`for_each_line`] over the whole lines in `range` of `text`, numbered
/// from `lines_before + 1`; spans are offsets into the whole `text`.
pub(crate) fn for_each_line_in<'a>(
    text: &'a str,
    range: std::ops::Range<usize>,
    lines_before: u32,
    mut f: impl FnMut(&Line<'a, '_>) -> bool,
) -> Result<u32, GrammarBug> {
    let bytes = &text.as_bytes()[..range.end];
    let mut base = range.start;
    let mut number = lines_before;
    let mut buf: Vec<RawLine<'a>> = Vec::with_capacity(BLOCK_LINES + 1);
    let mut toks: Vec<Tok<'a>> = Vec::with_capacity(BLOCK_LINES * 3);
    loop {
        let end = after_lines(bytes, base, BLOCK_LINES);
        let last_block = end >= bytes.len();
        lex_block(text, base, end, number, &mut buf, &mut toks)?;
        // A block that ends at a line break yields one more, empty, line:
        // the start of the next block. Only the last block keeps it.
        if !last_block {
            buf.pop();
        }
        for raw in &buf {
            number = raw.number;
            let line = Line {
                number: raw.number,
                start: raw.start,
                full_end: raw.full_end,
                indent: raw.indent,
                tokens: &toks[raw.tokens.clone()],
                bad_quote: raw.bad_quote,
            };
            if !f(&line) {
                return Ok(number);
            }
        }
        buf.clear();
        toks.clear();
        if last_block {
            return Ok(number);
        }
        base = end;
    }
}

fn lex_block<'a>(
    text: &'a str,
    base: usize,
    end: usize,
    first_number: u32,
    out: &mut Vec<RawLine<'a>>,
    toks: &mut Vec<Tok<'a>>,
) -> Result<(), GrammarBug> {
    let chunk = &text[base..end];
    let mut pairs = LvsLexer::parse(Rule::file, chunk).map_err(|e| GrammarBug(e.to_string()))?;
    let file = pairs
        .next()
        .ok_or_else(|| GrammarBug("empty parse".to_string()))?;
    let mut number = first_number;
    for line in file.into_inner() {
        if line.as_rule() != Rule::line {
            continue;
        }
        number += 1;
        let lstart = base + line.as_span().start();
        let first_tok = toks.len();
        let mut bad_quote = None;
        for t in line.into_inner() {
            let rule = t.as_rule();
            let sp = t.as_span();
            let (s, e) = (base + sp.start(), base + sp.end());
            let span = Span {
                start: s,
                end: e,
                line: number,
                col: col_of(text, lstart, s),
            };
            let quote = match rule {
                Rule::bad_quote => {
                    bad_quote = Some(span);
                    continue;
                }
                Rule::dquoted | Rule::dglued => Some(Quote::Double),
                Rule::squoted | Rule::sglued => Some(Quote::Single),
                Rule::bare => None,
                _ => continue,
            };
            let glued = matches!(rule, Rule::dglued | Rule::sglued);
            let text = match quote {
                Some(_) => &text[s + 1..e - 1],
                None => &text[s..e],
            };
            toks.push(Tok {
                text,
                quote,
                span,
                glued,
            });
        }
        if let Some(prev) = out.last_mut() {
            prev.full_end = lstart;
        }
        let rest = &text[lstart..end];
        let indent_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        out.push(RawLine {
            number,
            start: lstart,
            full_end: end,
            indent: &rest[..indent_len],
            tokens: first_tok..toks.len(),
            bad_quote,
        });
    }
    Ok(())
}

/// A line with owned tokens (tests).
#[cfg(test)]
#[derive(Clone, Debug)]
pub(crate) struct OwnedLine<'a> {
    pub number: u32,
    pub start: usize,
    pub full_end: usize,
    pub indent: &'a str,
    pub tokens: Vec<Tok<'a>>,
    pub bad_quote: Option<Span>,
}

/// Every line of `text` (tests).
#[cfg(test)]
pub(crate) fn lex(text: &str) -> Result<Vec<OwnedLine<'_>>, GrammarBug> {
    let mut v = Vec::new();
    for_each_line(text, |l| {
        v.push(OwnedLine {
            number: l.number,
            start: l.start,
            full_end: l.full_end,
            indent: l.indent,
            tokens: l.tokens.to_vec(),
            bad_quote: l.bad_quote,
        });
        true
    })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Vec<String>> {
        lex(s)
            .unwrap()
            .iter()
            .map(|l| l.tokens.iter().map(|t| t.text.to_string()).collect())
            .collect()
    }

    #[test]
    fn lines_and_tokens() {
        assert_eq!(toks("a = b\n"), vec![vec!["a", "=", "b"], vec![]]);
        assert_eq!(toks("  # c\n\tx  =  1"), vec![vec![], vec!["x", "=", "1"]]);
        assert_eq!(toks("a\r\nb\rc"), vec![vec!["a"], vec!["b"], vec!["c"]]);
        assert_eq!(
            toks(r#"send = "GET / HTTP/1.0\r\n" "#),
            vec![vec!["send", "=", r"GET / HTTP/1.0\r\n"]]
        );
        assert_eq!(toks("x = 'a b'"), vec![vec!["x", "=", "a b"]]);
        assert_eq!(toks("x = a\"b"), vec![vec!["x", "=", "a\"b"]]);
        assert_eq!(toks(""), vec![Vec::<String>::new()]);
    }

    #[test]
    fn quotes_and_columns() {
        let l = lex("x = \"abc").unwrap();
        assert_eq!(l[0].bad_quote.unwrap().col, 5);
        let l = lex("x = \"abc\"def").unwrap();
        assert_eq!(l[0].bad_quote.unwrap().col, 5);
        let l = lex("\tkey = 'v'").unwrap();
        assert_eq!(l[0].tokens[2].span.col, 8);
        assert_eq!(l[0].tokens[2].quote, Some(Quote::Single));
        assert_eq!(l[0].indent, "\t");
        let l = lex("é = x").unwrap();
        assert_eq!(l[0].tokens[2].span.col, 5);
    }

    #[test]
    fn blocks_join_seamlessly() {
        let mut t = String::new();
        for i in 0..(3 * BLOCK_LINES + 7) {
            t.push_str(&format!(
                "k{i} = {i}{}",
                if i % 3 == 0 { "\r\n" } else { "\n" }
            ));
        }
        let l = lex(&t).unwrap();
        assert_eq!(l.len(), 3 * BLOCK_LINES + 8);
        for (i, line) in l.iter().enumerate().take(3 * BLOCK_LINES + 7) {
            assert_eq!(line.number as usize, i + 1);
            assert_eq!(line.tokens[0].text, format!("k{i}"));
            assert_eq!(
                &t[line.tokens[2].span.start..line.tokens[2].span.end],
                i.to_string()
            );
        }
        assert_eq!(l.last().unwrap().full_end, t.len());
        assert!(l.windows(2).all(|w| w[0].full_end == w[1].start));
    }

    #[test]
    fn line_extents() {
        let t = "a\r\nb\n\nc";
        let l = lex(t).unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(&t[l[0].start..l[0].full_end], "a\r\n");
        assert_eq!(&t[l[2].start..l[2].full_end], "\n");
        assert_eq!(&t[l[3].start..l[3].full_end], "c");
    }
}
