//! Who a request comes from: the connection's address, or, behind a trusted proxy (the
//! ALB), the address that proxy saw, taken from `X-Forwarded-For`.

use std::net::IpAddr;

use http::HeaderMap;

/// An IP network such as `10.0.0.0/16` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network in `PUJO_TRUSTED_PROXIES` was not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{0:?} is not an IP address or CIDR")]
    NotAnAddress(String),
    #[error("bad prefix in {0:?}")]
    BadPrefix(String),
}

impl Cidr {
    /// Parses `addr/prefix`, or a bare address (a network of one).
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| CidrError::NotAnAddress(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| CidrError::BadPrefix(text.to_owned()))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// A comma-separated list; empty text is an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<Cidr>, CidrError> {
        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Cidr::parse).collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)) << 96, self.prefix)
                    == masked(u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix) == masked(u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(prefix))) }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A client as limits and pacing count it: an IPv4 address, or an IPv6 /64 (one home
/// or phone gets a whole /64, so counting per /128 would let one client count as
/// billions). IPv4-mapped IPv6 counts as the IPv4 address. Shown as `203.0.113.9` or
/// `2001:db8:1:2::/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientBucket(IpAddr);

/// An address as records keep it: IPv4 to its /24, IPv6 to its /48 (a network, not
/// a device), in CIDR notation.
pub fn truncated(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => truncated(IpAddr::V4(v4)),
            // 6to4 (2002::/16) carries a whole IPv4 address in its first 48 bits.
            None if v6.segments()[0] == 0x2002 => {
                let s = v6.segments();
                let ([a, b], [c, _]) = (s[1].to_be_bytes(), s[2].to_be_bytes());
                format!("{a}.{b}.{c}.0/24 (6to4)")
            }
            None => {
                let s = v6.segments();
                format!("{}/48", std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
            }
        },
    }
}

pub fn client_bucket(ip: IpAddr) -> ClientBucket {
    match canonical(ip) {
        IpAddr::V6(v6) => ClientBucket(IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64)))),
        v4 => ClientBucket(v4),
    }
}

impl std::fmt::Display for ClientBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The client's address: walking `X-Forwarded-For` from the right while the hop that
/// added an entry is trusted, so a client cannot choose its own address by sending the
/// header itself.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let mut current = canonical(peer);
    if !trusted.iter().any(|c| c.contains(current)) {
        return current;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        current = canonical(ip);
        if !trusted.iter().any(|c| c.contains(current)) {
            break;
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_a_network_not_a_device() {
        assert_eq!(truncated("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(truncated("2001:db8:abcd:12:1:2:3:4".parse().unwrap()), "2001:db8:abcd::/48");
        assert_eq!(truncated("::ffff:198.51.100.9".parse().unwrap()), "198.51.100.0/24");
        assert_eq!(
            truncated("2002:cb00:7142::1".parse().unwrap()),
            "203.0.113.0/24 (6to4)",
            "6to4 holds an IPv4 address"
        );
    }

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("header"));
        h
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = Cidr::parse("10.1.0.0/16").expect("cidr");
        assert!(net.contains("10.1.200.3".parse().expect("ip")));
        assert!(net.contains("::ffff:10.1.0.9".parse().expect("ip")));
        assert!(!net.contains("10.2.0.1".parse().expect("ip")));
        assert!(Cidr::parse("0.0.0.0/0").expect("all").contains("8.8.8.8".parse().expect("ip")));
        assert!(Cidr::parse("fd00::/8").expect("v6").contains("fd12::1".parse().expect("ip")));
        assert_eq!(Cidr::parse("10.0.0.0/33"), Err(CidrError::BadPrefix("10.0.0.0/33".to_owned())));
        assert_eq!(Cidr::parse("alb"), Err(CidrError::NotAnAddress("alb".to_owned())));
        assert_eq!(Cidr::parse_list(" ").expect("empty"), vec![]);
    }

    #[test]
    fn ipv6_clients_count_by_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_bucket(a), client_bucket(b));
        assert_ne!(client_bucket(a), client_bucket(other));
        assert_eq!(client_bucket(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().expect("ip");
        assert_eq!(client_bucket(mapped).to_string(), "203.0.113.9");
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted = Cidr::parse_list("10.0.0.0/8").expect("list");
        let alb: IpAddr = "10.0.3.4".parse().expect("ip");
        let stranger: IpAddr = "203.0.113.9".parse().expect("ip");
        // The client forged the first entry; the ALB appended the real one.
        let h = headers("1.2.3.4, 198.51.100.7");
        assert_eq!(client_ip(alb, &h, &trusted), "198.51.100.7".parse::<IpAddr>().expect("ip"));
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
        assert_eq!(client_ip(alb, &headers("garbage"), &trusted), alb);
        assert_eq!(client_ip(alb, &HeaderMap::new(), &[]), alb);
    }
}
