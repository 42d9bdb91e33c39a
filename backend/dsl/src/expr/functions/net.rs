//! IP address functions after Python's `ipaddress` module.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::{arity, boolean, str_at, value_error};
use crate::expr::ExprError;
use crate::expr::value::repr_str;

fn ip_at(args: &[Value], i: usize) -> Result<IpAddr, ExprError> {
    let s = str_at(args, i)?;
    s.parse().map_err(|_| {
        value_error(format!(
            "{} does not appear to be an IPv4 or IPv6 address",
            repr_str(s)
        ))
    })
}

pub(super) fn check_ip_version(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(if ip_at(args, 0)?.is_ipv4() { 4 } else { 6 }))
}

/// Parses `addr/prefix` strictly, as Python's `ip_network` does (host bits must be zero).
fn network(s: &str) -> Result<(IpAddr, u32), ExprError> {
    let bad = || {
        value_error(format!(
            "{} does not appear to be an IPv4 or IPv6 network",
            repr_str(s)
        ))
    };
    let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(bad)?,
        None => bits,
    };
    if ip_bits(addr) & !mask(prefix, bits) != 0 {
        return Err(value_error(format!("{} has host bits set", repr_str(s))));
    }
    Ok((addr, prefix))
}

fn ip_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(prefix: u32, bits: u32) -> u128 {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if prefix == 0 {
        0
    } else {
        all & !((1u128 << (bits - prefix)) - 1)
    }
}

fn in_subnet(args: &[Value], v4: bool) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let ip = ip_at(args, 0)?;
    let (net, prefix) = network(str_at(args, 1)?)?;
    if ip.is_ipv4() != v4 || net.is_ipv4() != v4 {
        let want = if v4 { "IPv4" } else { "IPv6" };
        return Err(value_error(format!("both arguments must be {want}")));
    }
    let bits = if v4 { 32 } else { 128 };
    let m = mask(prefix, bits);
    boolean(ip_bits(ip) & m == ip_bits(net) & m)
}

pub(super) fn ipv4_in_subnet(args: &[Value]) -> Result<Value, ExprError> {
    in_subnet(args, true)
}

pub(super) fn ipv6_in_subnet(args: &[Value]) -> Result<Value, ExprError> {
    in_subnet(args, false)
}

fn within(addr: u128, net: u128, prefix: u32, bits: u32) -> bool {
    let m = mask(prefix, bits);
    addr & m == net & m
}

/// Python's `IPv4Address.is_global`, after the IANA special-purpose registry.
fn ipv4_global(a: Ipv4Addr) -> bool {
    let x = u128::from(u32::from(a));
    let net = |s: [u8; 4]| u128::from(u32::from(Ipv4Addr::from(s)));
    let special: [([u8; 4], u32); 16] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([240, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
        ([192, 88, 99, 0], 24),
        ([224, 0, 0, 0], 4),
    ];
    // 192.0.0.9 and 192.0.0.10 are globally reachable exceptions inside 192.0.0.0/24.
    if a.octets()[..3] == [192, 0, 0] && matches!(a.octets()[3], 9 | 10) {
        return true;
    }
    !special.iter().any(|(n, p)| within(x, net(*n), *p, 32))
}

/// Python's `IPv6Address.is_global`, after the IANA special-purpose registry.
fn ipv6_global(a: Ipv6Addr) -> bool {
    let x = u128::from(a);
    let net = |s: &str| s.parse::<Ipv6Addr>().map(u128::from).unwrap_or(0);
    let special: [(&str, u32); 12] = [
        ("::", 128),
        ("::1", 128),
        ("::ffff:0:0", 96),
        ("64:ff9b:1::", 48),
        ("100::", 64),
        ("2001::", 23),
        ("2001:db8::", 32),
        ("2002::", 16),
        ("fc00::", 7),
        ("fe80::", 10),
        ("ff00::", 8),
        ("3fff::", 20),
    ];
    !special.iter().any(|(n, p)| within(x, net(n), *p, 128))
}

pub(super) fn ipv4_is_public(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    match ip_at(args, 0)? {
        IpAddr::V4(a) => boolean(ipv4_global(a)),
        IpAddr::V6(_) => Err(value_error("expected an IPv4 address")),
    }
}

pub(super) fn ipv6_is_public(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    match ip_at(args, 0)? {
        IpAddr::V6(a) => boolean(ipv6_global(a)),
        IpAddr::V4(_) => Err(value_error("expected an IPv6 address")),
    }
}
