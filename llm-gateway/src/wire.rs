//! The wire formats: [`Format`], what an upstream provider speaks, and [`Dialect`], what a caller
//! speaks (and so how its errors and streams are rendered). Every other module names them; they
//! name nothing.

/// The API family a caller speaks; errors and streams are rendered in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// OpenAI's chat completions, models and embeddings.
    #[default]
    OpenAi,
    /// Anthropic's messages.
    Anthropic,
}

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenAi,
    Anthropic,
    Gemini,
}

impl From<Dialect> for Format {
    fn from(d: Dialect) -> Self {
        match d {
            Dialect::OpenAi => Format::OpenAi,
            Dialect::Anthropic => Format::Anthropic,
        }
    }
}
