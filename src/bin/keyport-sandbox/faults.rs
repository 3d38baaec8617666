//! Fault injection: per-endpoint FIFO queues of failures that tests schedule through
//! `POST /faults` or `--fault`, so a client's error handling can be exercised on demand.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Authorize,
    Token,
    Revoke,
    Userinfo,
    Posts,
    /// Media uploads (`POST /api/media`, `/api/v2/media`).
    Media,
    /// The Vault personality's transit encrypt and decrypt.
    Vault,
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "authorize" => Self::Authorize,
            "token" => Self::Token,
            "revoke" => Self::Revoke,
            "userinfo" => Self::Userinfo,
            "posts" => Self::Posts,
            "media" => Self::Media,
            "vault" => Self::Vault,
            other => return Err(format!("unknown endpoint {other:?} (expected authorize, token, revoke, userinfo, posts, media or vault)")),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    ServerError,
    RateLimited,
    Hang,
    InvalidGrant,
    /// A 200 whose JSON body is 1 MiB: a client must stop reading at its cap.
    Huge,
    /// The request waits a second, then is answered normally (a slow provider).
    Slow,
}

impl FromStr for FaultMode {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "500" => Self::ServerError,
            "429" => Self::RateLimited,
            "hang" => Self::Hang,
            "invalid_grant" => Self::InvalidGrant,
            "huge" => Self::Huge,
            "slow" => Self::Slow,
            other => return Err(format!("unknown fault mode {other:?} (expected 500, 429, hang, invalid_grant, huge or slow)")),
        })
    }
}

/// One scheduled failure; `retry_after` only matters for 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub mode: FaultMode,
    pub retry_after: u64,
}

/// A fault plan as given on the command line: `ENDPOINT=MODE[:COUNT]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPlan {
    pub endpoint: Endpoint,
    pub fault: Fault,
    pub count: u32,
}

pub const DEFAULT_RETRY_AFTER: u64 = 1;

/// Parses `token=500:2`; the count defaults to 1 and the 429 `Retry-After` to 1 second.
pub fn parse_fault_plan(spec: &str) -> Result<FaultPlan, String> {
    let (endpoint, rest) = spec.split_once('=').ok_or("expected ENDPOINT=MODE[:COUNT]")?;
    let (mode, count) = match rest.split_once(':') {
        Some((mode, count)) => (mode, count.parse::<u32>().map_err(|_| format!("count {count:?} is not a number"))?),
        None => (rest, 1),
    };
    if count == 0 {
        return Err("count must be at least 1".to_owned());
    }
    Ok(FaultPlan {
        endpoint: endpoint.parse()?,
        fault: Fault { mode: mode.parse()?, retry_after: DEFAULT_RETRY_AFTER },
        count,
    })
}

#[derive(Debug, Default)]
pub struct FaultQueues {
    queues: HashMap<Endpoint, VecDeque<(Fault, u32)>>,
}

impl FaultQueues {
    /// Queues `count` occurrences of `fault` behind anything already scheduled.
    pub fn push(&mut self, plan: FaultPlan) {
        if plan.count > 0 {
            self.queues.entry(plan.endpoint).or_default().push_back((plan.fault, plan.count));
        }
    }

    /// Takes the next fault for `endpoint`, if one is due.
    pub fn take(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let queue = self.queues.get_mut(&endpoint)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = *fault;
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    pub fn clear(&mut self) {
        self.queues.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(endpoint: Endpoint, mode: FaultMode, count: u32) -> FaultPlan {
        FaultPlan { endpoint, fault: Fault { mode, retry_after: 1 }, count }
    }

    #[test]
    fn faults_are_served_in_order_and_counted() {
        let mut queues = FaultQueues::default();
        queues.push(plan(Endpoint::Token, FaultMode::ServerError, 2));
        queues.push(plan(Endpoint::Token, FaultMode::RateLimited, 1));
        queues.push(plan(Endpoint::Posts, FaultMode::Hang, 1));
        let mode = |queues: &mut FaultQueues, endpoint| queues.take(endpoint).map(|fault| fault.mode);
        assert_eq!(mode(&mut queues, Endpoint::Token), Some(FaultMode::ServerError));
        assert_eq!(mode(&mut queues, Endpoint::Token), Some(FaultMode::ServerError));
        assert_eq!(mode(&mut queues, Endpoint::Token), Some(FaultMode::RateLimited));
        assert_eq!(mode(&mut queues, Endpoint::Token), None);
        assert_eq!(mode(&mut queues, Endpoint::Revoke), None, "queues are per endpoint");
        assert_eq!(mode(&mut queues, Endpoint::Posts), Some(FaultMode::Hang));
        assert_eq!(mode(&mut queues, Endpoint::Posts), None);
    }

    #[test]
    fn clear_drops_everything() {
        let mut queues = FaultQueues::default();
        queues.push(plan(Endpoint::Userinfo, FaultMode::InvalidGrant, 3));
        queues.clear();
        assert_eq!(queues.take(Endpoint::Userinfo), None);
    }

    #[test]
    fn cli_plans_parse() {
        assert_eq!(parse_fault_plan("token=500:2"), Ok(plan(Endpoint::Token, FaultMode::ServerError, 2)));
        assert_eq!(parse_fault_plan("revoke=hang"), Ok(plan(Endpoint::Revoke, FaultMode::Hang, 1)));
        assert_eq!(parse_fault_plan("authorize=invalid_grant:1"), Ok(plan(Endpoint::Authorize, FaultMode::InvalidGrant, 1)));
        assert!(parse_fault_plan("token").is_err());
        assert!(parse_fault_plan("nope=500").is_err());
        assert!(parse_fault_plan("token=418").is_err());
        assert!(parse_fault_plan("token=500:x").is_err());
        assert!(parse_fault_plan("token=500:0").is_err());
    }
}
