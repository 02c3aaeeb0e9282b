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
}

/// One physical line.
#[derive(Clone, Debug)]
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of the line's first byte.
    pub start: usize,
    /// Byte offset one past the line's end-of-line sequence.
    pub full_end: usize,
    /// The blanks before the first token.
    pub indent: &'a str,
    /// The tokens (empty for blank and comment lines).
    pub tokens: Vec<Tok<'a>>,
    /// Where an unterminated or glued quote starts, if any.
    pub bad_quote: Option<Span>,
}

fn col_of(text: &str, line_start: usize, pos: usize) -> u32 {
    let s = &text[line_start..pos];
    if s.is_ascii() {
        s.len() as u32 + 1
    } else {
        s.chars().count() as u32 + 1
    }
}

/// Split `text` into lines and tokens. The grammar is total (every input
/// has a parse), so this only fails on an internal grammar bug, reported as
/// a plain string.
pub(crate) fn lex(text: &str) -> Result<Vec<Line<'_>>, String> {
    let mut pairs = LvsLexer::parse(Rule::file, text).map_err(|e| e.to_string())?;
    let file = pairs.next().ok_or("empty parse")?;
    let mut lines = Vec::new();
    let mut number = 0u32;
    let mut all: Vec<(usize, usize, Vec<Tok<'_>>, Option<Span>)> = Vec::new();
    for line in file.into_inner() {
        if line.as_rule() != Rule::line {
            continue;
        }
        number += 1;
        let lstart = line.as_span().start();
        let mut toks = Vec::new();
        let mut bad = None;
        for part in line.into_inner() {
            match part.as_rule() {
                Rule::tokens => {
                    for t in part.into_inner() {
                        let sp = t.as_span();
                        let span = Span {
                            start: sp.start(),
                            end: sp.end(),
                            line: number,
                            col: col_of(text, lstart, sp.start()),
                        };
                        let (inner, quote) = match t.as_rule() {
                            Rule::dquoted => (t.into_inner().next(), Some(Quote::Double)),
                            Rule::squoted => (t.into_inner().next(), Some(Quote::Single)),
                            _ => (None, None),
                        };
                        let text = match inner {
                            Some(i) => i.as_str(),
                            None => sp.as_str(),
                        };
                        toks.push(Tok { text, quote, span });
                    }
                }
                Rule::bad_quote => {
                    let sp = part.as_span();
                    bad = Some(Span {
                        start: sp.start(),
                        end: sp.end(),
                        line: number,
                        col: col_of(text, lstart, sp.start()),
                    });
                }
                _ => {}
            }
        }
        all.push((lstart, number as usize, toks, bad));
    }
    // Line ends: each line runs to the start of the next one.
    let n = all.len();
    let starts: Vec<usize> = all.iter().map(|l| l.0).collect();
    for (i, (start, num, tokens, bad_quote)) in all.into_iter().enumerate() {
        let full_end = if i + 1 < n { starts[i + 1] } else { text.len() };
        let body = &text[start..full_end];
        let indent_len = body.len() - body.trim_start_matches([' ', '\t']).len();
        lines.push(Line {
            number: num as u32,
            start,
            full_end,
            indent: &body[..indent_len],
            tokens,
            bad_quote,
        });
    }
    Ok(lines)
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
    fn line_extents() {
        let t = "a\r\nb\n\nc";
        let l = lex(t).unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(&t[l[0].start..l[0].full_end], "a\r\n");
        assert_eq!(&t[l[2].start..l[2].full_end], "\n");
        assert_eq!(&t[l[3].start..l[3].full_end], "c");
    }
}
