//! E-mail through the city's SMTP server (`lettre`), for notifications to residents and
//! departments.

use lettre::message::{Mailbox, MessageBuilder, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Whether `text` is an e-mail address (`name@example.org` or `Name <name@example.org>`).
pub fn is_mail_address(text: &str) -> bool {
    text.parse::<Mailbox>().is_ok()
}

/// An SMTP server and the address messages come from.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Why a message was not sent, and whether trying again could help.
#[derive(Debug)]
pub struct MailError {
    pub error: String,
    pub permanent: bool,
}

impl Mailer {
    /// `url`: `smtp://HOST:PORT` (plain, for a relay on the same network),
    /// `smtp://USER:PASS@HOST:587?tls=required` (STARTTLS) or `smtps://USER:PASS@HOST` (TLS);
    /// `from`: `City 311 <311@city.gov>`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("{url:?} is not an SMTP URL: {e}"))?
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("{from:?} is not an e-mail address: {e}"))?;
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        self.deliver(to, subject, |b| b.body(body.to_owned())).await
    }

    /// A message with a plain-text part and an HTML part (mail readers show the one they can).
    pub async fn send_html(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), MailError> {
        let parts = MultiPart::alternative_plain_html(text.to_owned(), html.to_owned());
        self.deliver(to, subject, |b| b.multipart(parts)).await
    }

    async fn deliver(
        &self,
        to: &str,
        subject: &str,
        body: impl FnOnce(MessageBuilder) -> Result<Message, lettre::error::Error>,
    ) -> Result<(), MailError> {
        let permanent = |error: String| MailError {
            error,
            permanent: true,
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| permanent(format!("{to:?} is not an e-mail address: {e}")))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        let message =
            body(builder).map_err(|e| permanent(format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError {
                permanent: e.is_permanent(),
                error: format!("SMTP: {e}"),
            })
    }
}
