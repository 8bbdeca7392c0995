//! FTP: AUTH TLS (RFC 4217), answered with 234.

use super::reply::{read_coded, send};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_coded(stream, deadline).await?;
    if greeting.code != 220 {
        return Err(PreludeError::Refused {
            reply: greeting.text(),
        });
    }
    send(stream, deadline, "AUTH TLS").await?;
    let answer = read_coded(stream, deadline).await?;
    match answer.code {
        234 => Ok(()),
        // 500/502/504: AUTH (or its TLS mechanism) is not implemented.
        500 | 502 | 504 => Err(PreludeError::NotOffered {
            reply: answer.text(),
        }),
        _ => Err(PreludeError::Refused {
            reply: answer.text(),
        }),
    }
}
