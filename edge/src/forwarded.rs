//! Who the client is. Normally the TCP peer, and a client-sent `X-Forwarded-For` is dropped
//! (spoofable). When the edge runs behind load balancers listed in
//! `FERROCAT_EDGE_TRUSTED_PROXIES` (CIDRs, IPv4 and IPv6) and the peer is one of them, the chain
//! it sent is kept and the peer appended, and the client is the rightmost address of that chain
//! that is not a trusted proxy (what nginx's `real_ip_recursive` does).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An IP network (the code base's one CIDR type).
pub use ferrocat_shared::net::Cidr;

/// The proxies whose `X-Forwarded-For` the edge believes; empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

/// The client as the edge determined it, and the `X-Forwarded-For` value to send upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The client address: for `X-Real-IP` and the access log.
    pub client: IpAddr,
    /// `X-Forwarded-For` for the upstream: the trusted chain plus the peer, or only the peer.
    pub chain: String,
}

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs or addresses (blank entries are ignored).
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted (then every peer is the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    /// The client and the forwarded chain for a request from `peer` that carried the
    /// `X-Forwarded-For` header values `sent` (in order; values that are not text are dropped).
    pub fn resolve<'a>(&self, peer: IpAddr, sent: impl Iterator<Item = &'a [u8]>) -> Forwarded {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            // Replace: whatever an untrusted peer claims about earlier hops is dropped.
            return Forwarded {
                client: peer,
                chain: peer.to_string(),
            };
        }
        let mut chain = String::new();
        for value in sent {
            let Ok(value) = std::str::from_utf8(value) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if !chain.is_empty() {
                chain.push_str(", ");
            }
            chain.push_str(value);
        }
        // Walk from the right, past trusted hops; the first untrusted one is the client. A hop
        // that is not an address ends the walk: nothing left of it can be vouched for.
        let mut client = peer;
        for hop in chain.rsplit(',') {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => client = ip,
                Some(ip) => {
                    client = ip;
                    break;
                }
                None => break,
            }
        }
        if !chain.is_empty() {
            chain.push_str(", ");
        }
        chain.push_str(&peer.to_string());
        Forwarded { client, chain }
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, cidr) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{cidr}")?;
        }
        Ok(())
    }
}

/// One hop of an `X-Forwarded-For` chain: `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_parse_and_match() {
        let net = cidr("10.0.0.0/8");
        assert!(net.contains(ip("10.0.0.0")) && net.contains(ip("10.255.255.255")));
        assert!(!net.contains(ip("11.0.0.0")) && !net.contains(ip("9.255.255.255")));
        assert!(net.contains(ip("::ffff:10.0.0.1")), "mapped v4 is v4");
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!cidr("0.0.0.0/0").contains(ip("::1")));
        assert!(cidr("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!cidr("192.0.2.7").contains(ip("192.0.2.8")));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(cidr("::/0").contains(ip("::1")));
        assert!(cidr("::1").contains(ip("::1")) && !cidr("::1").contains(ip("::2")));
        assert_eq!(cidr("::ffff:10.0.0.0/8"), net, "mapped v4 is v4");
        assert_eq!(net.to_string(), "10.0.0.0/8");

        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/x",
            "host",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    /// Every prefix length against addresses on both sides of the boundary.
    #[test]
    fn cidr_boundaries_for_every_prefix_length() {
        let base4 = u32::from(std::net::Ipv4Addr::new(172, 16, 0, 0));
        for len in 0..=32u32 {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            let network = std::net::Ipv4Addr::from(base4 & mask);
            let net: Cidr = format!("{network}/{len}").parse().unwrap();
            let last = u32::from(network) | !mask;
            assert!(net.contains(IpAddr::V4(network)), "/{len}");
            assert!(net.contains(IpAddr::V4(last.into())), "/{len}");
            if len > 0 {
                let outside = last.wrapping_add(1);
                assert!(
                    !net.contains(IpAddr::V4(outside.into())),
                    "/{len} {outside}"
                );
            }
        }
        let base6: u128 = 0x2001_0db8_1234_5678_9abc_def0_1234_5678;
        for len in 0..=128u32 {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            let network = std::net::Ipv6Addr::from(base6 & mask);
            let net: Cidr = format!("{network}/{len}").parse().unwrap();
            let last = u128::from(network) | !mask;
            assert!(net.contains(IpAddr::V6(last.into())), "/{len}");
            if len > 0 {
                let outside = last.wrapping_add(1);
                assert!(!net.contains(IpAddr::V6(outside.into())), "/{len}");
            }
        }
    }

    #[test]
    fn lists_parse_with_blanks_and_report_the_bad_entry() {
        let list = TrustedProxies::parse(" 10.0.0.0/8, ,2001:db8::/32,127.0.0.1 ").unwrap();
        assert_eq!(list.to_string(), "10.0.0.0/8,2001:db8::/32,127.0.0.1/32");
        assert!(list.contains(ip("::ffff:10.1.2.3")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8,lb.internal").unwrap_err();
        assert!(err.contains("lb.internal"), "{err}");
    }

    fn resolve(trusted: &str, peer: &str, sent: &[&str]) -> Forwarded {
        TrustedProxies::parse(trusted)
            .unwrap()
            .resolve(ip(peer), sent.iter().map(|s| s.as_bytes()))
    }

    #[test]
    fn an_untrusted_peer_replaces_the_chain() {
        let f = resolve("", "203.0.113.9", &["6.6.6.6"]);
        assert_eq!(
            (f.client, f.chain.as_str()),
            (ip("203.0.113.9"), "203.0.113.9")
        );
        let f = resolve("10.0.0.0/8", "203.0.113.9", &["6.6.6.6, 10.0.0.1"]);
        assert_eq!(
            (f.client, f.chain.as_str()),
            (ip("203.0.113.9"), "203.0.113.9")
        );
        let f = resolve("10.0.0.0/8", "::ffff:198.51.100.1", &[]);
        assert_eq!(f.chain, "198.51.100.1");
    }

    #[test]
    fn a_trusted_peer_appends_and_the_rightmost_untrusted_hop_is_the_client() {
        // The load balancer saw 198.51.100.7; a spoofed hop to its left is ignored.
        let f = resolve("10.0.0.0/8", "10.0.0.2", &["6.6.6.6, 198.51.100.7"]);
        assert_eq!(f.client, ip("198.51.100.7"));
        assert_eq!(f.chain, "6.6.6.6, 198.51.100.7, 10.0.0.2");
        // Two trusted tiers, several header lines.
        let f = resolve(
            "10.0.0.0/8,2001:db8::/32",
            "2001:db8::1",
            &["198.51.100.7", "10.9.9.9"],
        );
        assert_eq!(f.client, ip("198.51.100.7"));
        assert_eq!(f.chain, "198.51.100.7, 10.9.9.9, 2001:db8::1");
        // Ports and brackets are understood.
        let f = resolve("10.0.0.0/8", "10.0.0.2", &["[2001:db8::9]:4711"]);
        assert_eq!(f.client, ip("2001:db8::9"));
        let f = resolve("10.0.0.0/8", "10.0.0.2", &["198.51.100.7:5000"]);
        assert_eq!(f.client, ip("198.51.100.7"));
        // No header: the trusted peer itself is all we know.
        let f = resolve("10.0.0.0/8", "10.0.0.2", &[]);
        assert_eq!((f.client, f.chain.as_str()), (ip("10.0.0.2"), "10.0.0.2"));
        // Every hop trusted: the leftmost.
        let f = resolve("10.0.0.0/8", "10.0.0.2", &["10.0.0.5, 10.0.0.3"]);
        assert_eq!(f.client, ip("10.0.0.5"));
        // Garbage ends the walk at the last hop that could be vouched for.
        let f = resolve(
            "10.0.0.0/8",
            "10.0.0.2",
            &["198.51.100.7, unknown, 10.0.0.3"],
        );
        assert_eq!(f.client, ip("10.0.0.3"));
        assert_eq!(f.chain, "198.51.100.7, unknown, 10.0.0.3, 10.0.0.2");
    }
}
