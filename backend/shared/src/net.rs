//! IP networks: the one CIDR type of the code base (egress rules, and the address checks that
//! used to parse their own).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network: an address and a prefix length, host bits zero. IPv4-mapped IPv6 addresses
/// (`::ffff:a.b.c.d`) are treated as the IPv4 address they carry, when parsing and matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// The network of exactly one address.
    pub fn host(ip: IpAddr) -> Self {
        let network = ip.to_canonical();
        Self { network, prefix_len: if network.is_ipv4() { 32 } else { 128 } }
    }

    /// Like parsing, but host bits after the prefix are dropped instead of refused
    /// (`10.1.2.3/16` is `10.1.0.0/16`): for lists people typed before that was checked, such
    /// as webhook allow-lists.
    pub fn parse_lenient(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid CIDR {text:?}");
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len.trim().parse::<u8>().map_err(|_| invalid())?)),
            None => (text, None),
        };
        // Not canonicalised: an entry keeps the family it was written in, as it always matched.
        let ip: IpAddr = addr.trim().parse().map_err(|_| invalid())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix_len = len.unwrap_or(max);
        if prefix_len > max {
            return Err(invalid());
        }
        let network = match ip {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(prefix_len)).unwrap_or(0)).into()),
        };
        Ok(Self { network, prefix_len })
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` is inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (one host).
    fn from_str(raw: &str) -> Result<Self, String> {
        let (addr, len) = match raw.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (raw, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| format!("{raw:?} is not an IP address or CIDR"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match len {
            None => max,
            Some(len) => len
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|len| *len <= max)
                .ok_or_else(|| format!("{raw:?}: prefix length must be 0 to {max}"))?,
        };
        let cidr = Self { network, prefix_len };
        if !cidr.contains(network) {
            return Err(format!("{raw:?} has host bits set after /{prefix_len}"));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::Cidr;

    #[test]
    fn parses_and_matches_v4_v6_and_mapped() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.255.1.2".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let v6: Cidr = "fe80::/10".parse().unwrap();
        assert!(v6.contains("fe80::1".parse().unwrap()) && v6.contains("febf::1".parse().unwrap()));
        assert!(!v6.contains("fec0::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()) && !all.contains("::1".parse().unwrap()));
        assert_eq!("::ffff:127.0.0.1".parse::<Cidr>().unwrap().to_string(), "127.0.0.1/32");
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "nope", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let lenient = Cidr::parse_lenient("10.1.2.3/16").unwrap();
        assert_eq!(lenient.to_string(), "10.1.0.0/16");
        assert!(lenient.contains("10.1.200.3".parse().unwrap()) && !lenient.contains("10.2.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse_lenient("1.2.3.4").unwrap().prefix_len(), 32);
        assert_eq!(Cidr::parse_lenient("2001:db8::1/32").unwrap().to_string(), "2001:db8::/32");
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/", "::/129"] {
            assert_eq!(Cidr::parse_lenient(bad).unwrap_err(), format!("invalid CIDR {bad:?}"), "{bad}");
        }
    }
}

/// The client address. From a loopback peer (the edge), `X-Real-IP` when the edge set it (on
/// /api), else the last `X-Forwarded-For` hop, which the edge always writes itself (a
/// client-sent one never passes it); from anyone else, the peer itself.
pub fn client_ip(peer: std::net::SocketAddr, headers: &http::HeaderMap) -> std::net::IpAddr {
    if !peer.ip().is_loopback() {
        return peer.ip();
    }
    let parse = |v: &str| v.trim().parse::<std::net::IpAddr>().ok();
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(parse)
        .or_else(|| {
            let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back()?;
            forwarded.rsplit(',').next().and_then(parse)
        })
        .unwrap_or(peer.ip())
}

#[cfg(test)]
mod client_ip_tests {
    use http::HeaderMap;

    use super::client_ip;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_client_is_what_the_edge_saw_and_only_the_edge_is_believed() {
        let edge = "127.0.0.1:40000".parse().unwrap();
        let outsider = "192.0.2.10:40000".parse().unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(client_ip(edge, &headers(&[("x-real-ip", "203.0.113.5"), ("x-forwarded-for", "198.51.100.1")])), ip("203.0.113.5"));
        // Routes without X-Real-IP: the hop the edge appended last.
        assert_eq!(client_ip(edge, &headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.6")])), ip("203.0.113.6"));
        assert_eq!(client_ip(edge, &headers(&[("x-forwarded-for", "198.51.100.1"), ("x-forwarded-for", "203.0.113.7")])), ip("203.0.113.7"));
        assert_eq!(client_ip(edge, &headers(&[("x-forwarded-for", "not an address")])), ip("127.0.0.1"));
        assert_eq!(client_ip(edge, &headers(&[])), ip("127.0.0.1"));
        // Anyone else's headers are ignored.
        assert_eq!(client_ip(outsider, &headers(&[("x-real-ip", "203.0.113.5"), ("x-forwarded-for", "203.0.113.6")])), ip("192.0.2.10"));
    }
}
