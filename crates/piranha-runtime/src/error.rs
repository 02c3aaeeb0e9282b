//! One way to print an error: the error and every source below it,
//! `: `-separated, the form every daemon and tool logs and prints.

use std::error::Error;
use std::fmt;

/// `error: its source: that source's source`, as a `String`.
pub fn chain(e: &dyn Error) -> String {
    Chain(e).to_string()
}

/// [`chain`] as a `Display`, for `format!` and log macros without an
/// intermediate `String`.
pub struct Chain<'a>(pub &'a dyn Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cur = self.0.source();
        while let Some(c) = cur {
            write!(f, ": {c}")?;
            cur = c.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn Error + 'static))
        }
    }

    #[test]
    fn every_level_is_printed() {
        let e = Layer(
            "cannot start nannies",
            Some(Box::new(Layer(
                "fork",
                Some(Box::new(Layer("Resource temporarily unavailable", None))),
            ))),
        );
        assert_eq!(
            chain(&e),
            "cannot start nannies: fork: Resource temporarily unavailable"
        );
        assert_eq!(chain(&Layer("alone", None)), "alone");
    }
}
