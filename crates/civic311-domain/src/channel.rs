//! The ways a resident (or a city worker) reaches 311. Reports split volume by channel, and
//! self-generated requests can be left out of SLA numbers by a switch.

use serde::{Deserialize, Serialize};

use crate::DomainError;

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code stored in the database and used on the wire.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::UnknownCode { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// How a contact reached the city.
    Channel, "channel" {
        Phone = "phone",
        Web = "web",
        MobileApp = "mobile_app",
        Email = "email",
        WalkIn = "walk_in",
        Fax = "fax",
        Voicemail = "voicemail",
        /// Twitter, Facebook and the like.
        Social = "social",
        /// Web chat or a chat bot.
        Chat = "chat",
        /// A third-party client through the Open311 API.
        Open311Api = "open311_api",
        /// Filed by city staff in the field (inspectors, crews): not a resident's demand.
        SelfGenerated = "self_generated",
        Other = "other",
    }
);

impl Channel {
    /// Whether the request came from city staff rather than a resident.
    pub fn is_self_generated(&self) -> bool {
        *self == Channel::SelfGenerated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_round_trips() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Ok(*c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(
            Channel::parse("pigeon"),
            Err(DomainError::UnknownCode {
                kind: "channel",
                value: "pigeon".into()
            })
        );
    }
}
