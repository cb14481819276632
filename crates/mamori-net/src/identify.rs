//! From what a service said to a product, a version and a CPE name (pure).
//!
//! Only what the service itself states is used: a banner without a version gives a
//! product without a version, never a guess.

/// Printable text of at most `max` characters from raw bytes: control characters (Telnet
/// negotiation, NULs) dropped, invalid UTF-8 replaced, whitespace collapsed.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut count = 0;
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = count > 0;
            continue;
        }
        if c.is_control() || c == '\u{fffd}' {
            continue;
        }
        let needed = 1 + usize::from(space);
        if count + needed > max {
            // Shortened: at most `max` characters and the ellipsis.
            out.push('…');
            break;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
        count += needed;
    }
    out
}

/// A product and version as stated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Product name (`OpenSSH`).
    pub name: String,
    /// Version (`9.2p1`), when stated.
    pub version: Option<String>,
}

fn product(name: &str, version: Option<&str>) -> Product {
    Product {
        name: name.to_string(),
        version: version
            .map(|v| v.trim().trim_end_matches([',', ';', ')']).to_string())
            .filter(|v| !v.is_empty() && v.chars().next().is_some_and(|c| c.is_ascii_digit())),
    }
}

fn version_after(text: &str, marker: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&marker.to_ascii_lowercase())? + marker.len();
    let v: String = text[at..]
        .trim_start_matches([' ', '/', '_', '-', 'v', 'V'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~'))
        .collect();
    let v = v.trim_end_matches(['.', '-', '_']).to_string();
    (!v.is_empty() && v.starts_with(|c: char| c.is_ascii_digit())).then_some(v)
}

/// `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3` → OpenSSH 9.2p1.
pub fn ssh(banner: &str) -> Option<Product> {
    let rest = banner.strip_prefix("SSH-")?;
    let (_, software) = rest.split_once('-')?;
    let software = software.split_whitespace().next()?;
    let (name, version) = match software.split_once('_') {
        Some((n, v)) => (n, Some(v)),
        None => (software, None),
    };
    let name = match name.to_ascii_lowercase().as_str() {
        "openssh" => "OpenSSH",
        "dropbear" => "Dropbear SSH",
        "cisco" => "Cisco SSH",
        _ => name,
    };
    Some(product(name, version))
}

/// FTP greeting: vsftpd, ProFTPD, Pure-FTPd, FileZilla, Microsoft FTP.
pub fn ftp(banner: &str) -> Option<Product> {
    let lower = banner.to_ascii_lowercase();
    for (needle, name) in [
        ("vsftpd", "vsftpd"),
        ("proftpd", "ProFTPD"),
        ("pure-ftpd", "Pure-FTPd"),
        ("filezilla server", "FileZilla Server"),
        ("microsoft ftp", "Microsoft FTP Service"),
    ] {
        if lower.contains(needle) {
            return Some(Product {
                name: name.to_string(),
                version: version_after(banner, needle),
            });
        }
    }
    None
}

/// SMTP greeting: Postfix, Exim, Sendmail, Microsoft ESMTP.
pub fn smtp(banner: &str) -> Option<Product> {
    let lower = banner.to_ascii_lowercase();
    for (needle, name) in [
        ("postfix", "Postfix"),
        ("exim", "Exim"),
        ("sendmail", "Sendmail"),
        ("microsoft esmtp", "Microsoft Exchange"),
    ] {
        if lower.contains(needle) {
            return Some(Product {
                name: name.to_string(),
                version: version_after(banner, needle),
            });
        }
    }
    None
}

/// HTTP `Server` header: `nginx/1.22.1`, `Apache/2.4.57 (Debian)`, `Microsoft-IIS/10.0`.
pub fn http_server(server: &str) -> Option<Product> {
    let first = server.split_whitespace().next()?;
    let (name, version) = match first.split_once('/') {
        Some((n, v)) => (n, Some(v)),
        None => (first, None),
    };
    let name = match name.to_ascii_lowercase().as_str() {
        "apache" => "Apache httpd",
        "nginx" => "nginx",
        "microsoft-iis" => "Microsoft IIS",
        "lighttpd" => "lighttpd",
        "openresty" => "OpenResty",
        _ => name,
    };
    Some(product(name, version))
}

/// A MySQL/MariaDB greeting's server version: `5.5.5-10.11.19-MariaDB-0+deb12u1` →
/// MariaDB 10.11.19; `8.0.36` → MySQL 8.0.36.
pub fn mysql(server_version: &str) -> Product {
    let v = server_version.trim();
    if v.to_ascii_lowercase().contains("mariadb") {
        let v = v.strip_prefix("5.5.5-").unwrap_or(v);
        let version = v.split('-').next();
        return product("MariaDB", version);
    }
    product("MySQL", v.split('-').next())
}

/// `INFO server` of Redis → its `redis_version`.
pub fn redis_info(info: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.trim().strip_prefix("redis_version:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// DICOM implementation version name: `OFFIS_DCMTK_367` → DCMTK 3.6.7.
pub fn dicom_implementation(version_name: &str) -> Option<Product> {
    let v = version_name.trim();
    if let Some(digits) = v.strip_prefix("OFFIS_DCMTK_") {
        if digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()) {
            let d: Vec<char> = digits.chars().collect();
            return Some(product(
                "DCMTK",
                Some(&format!("{}.{}.{}", d[0], d[1], d[2])),
            ));
        }
        return Some(product("DCMTK", None));
    }
    if let Some(rest) = v.strip_prefix("ORTHANC_") {
        return Some(product("Orthanc", Some(&rest.replace('_', "."))));
    }
    None
}

/// The CPE 2.3 vendor and product of products we identify (the names NVD uses), under
/// mamori's names and nmap's.
fn cpe_names(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "Postfix smtpd" => ("postfix", "postfix"),
        "Microsoft IIS httpd" => ("microsoft", "internet_information_services"),
        "Exim smtpd" => ("exim", "exim"),
        "Dropbear sshd" => ("dropbear_ssh_project", "dropbear_ssh"),
        "CUPS" => ("apple", "cups"),
        "OpenSSH" => ("openbsd", "openssh"),
        "Dropbear SSH" => ("dropbear_ssh_project", "dropbear_ssh"),
        "vsftpd" => ("beasts", "vsftpd"),
        "ProFTPD" => ("proftpd", "proftpd"),
        "Pure-FTPd" => ("pureftpd", "pure-ftpd"),
        "FileZilla Server" => ("filezilla-project", "filezilla_server"),
        "Postfix" => ("postfix", "postfix"),
        "Exim" => ("exim", "exim"),
        "Sendmail" => ("sendmail", "sendmail"),
        "nginx" => ("f5", "nginx"),
        "Apache httpd" => ("apache", "http_server"),
        "Microsoft IIS" => ("microsoft", "internet_information_services"),
        "lighttpd" => ("lighttpd", "lighttpd"),
        "MariaDB" => ("mariadb", "mariadb"),
        "MySQL" => ("oracle", "mysql"),
        "PostgreSQL" => ("postgresql", "postgresql"),
        "Redis" => ("redis", "redis"),
        "Orthanc" => ("orthanc-server", "orthanc"),
        "DCMTK" => ("offis", "dcmtk"),
        "RabbitMQ" => ("vmware", "rabbitmq"),
        _ => return None,
    })
}

/// Earlier CPE names NVD still uses for older records of a product (nginx was `nginx:nginx`
/// before F5, MySQL `mysql:mysql` before Oracle).
fn former_cpe_names(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "nginx" => &[("nginx", "nginx")],
        "MySQL" => &[("mysql", "mysql")],
        "RabbitMQ" => &[("pivotal_software", "rabbitmq")],
        _ => &[],
    }
}

/// `cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*` for a known product with a version.
pub fn cpe(p: &Product) -> Option<String> {
    cpes(p).into_iter().next()
}

/// Every CPE name of a known product with a version: the current one first, then the
/// names older NVD records use.
pub fn cpes(p: &Product) -> Vec<String> {
    let Some(current) = cpe_names(&p.name) else {
        return Vec::new();
    };
    std::iter::once(current)
        .chain(former_cpe_names(&p.name).iter().copied())
        .filter_map(|(vendor, prod)| cpe_of(vendor, prod, p.version.as_deref()?))
        .collect()
}

fn cpe_of(vendor: &str, prod: &str, version: &str) -> Option<String> {
    let escaped: String = version
        .chars()
        .flat_map(|c| {
            let esc = !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
            esc.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect();
    Some(format!("cpe:2.3:a:{vendor}:{prod}:{escaped}:*:*:*:*:*:*:*"))
}

/// The page title of an HTML document (first `<title>`), shortened.
pub fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let end = lower[open_end..].find("</title").map(|e| e + open_end)?;
    let t = printable(text[open_end..end].as_bytes(), 120);
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(p: Option<Product>) -> (String, Option<String>) {
        let p = p.unwrap();
        (p.name, p.version)
    }

    #[test]
    fn banners_give_products_and_versions() {
        assert_eq!(
            pv(ssh("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3")),
            ("OpenSSH".into(), Some("9.2p1".into()))
        );
        assert_eq!(
            pv(ssh("SSH-2.0-dropbear_2020.81")),
            ("Dropbear SSH".into(), Some("2020.81".into()))
        );
        assert_eq!(ssh("HTTP/1.1 400"), None);
        assert_eq!(
            pv(ftp("220 (vsFTPd 3.0.3)")),
            ("vsftpd".into(), Some("3.0.3".into()))
        );
        assert_eq!(
            pv(ftp("220 ProFTPD 1.3.5e Server (Debian)")),
            ("ProFTPD".into(), Some("1.3.5e".into()))
        );
        assert_eq!(pv(ftp("220 Microsoft FTP Service")).1, None);
        assert_eq!(
            pv(smtp("220 mx ESMTP Exim 4.96 Tue, 1 Jan")),
            ("Exim".into(), Some("4.96".into()))
        );
        assert_eq!(
            pv(http_server("nginx/1.22.1")),
            ("nginx".into(), Some("1.22.1".into()))
        );
        assert_eq!(
            pv(http_server("Apache/2.4.57 (Debian)")),
            ("Apache httpd".into(), Some("2.4.57".into()))
        );
        assert_eq!(pv(http_server("nginx")).1, None);
        assert_eq!(
            mysql("5.5.5-10.11.19-MariaDB-0+deb12u1"),
            product("MariaDB", Some("10.11.19"))
        );
        assert_eq!(mysql("8.0.36-0ubuntu0"), product("MySQL", Some("8.0.36")));
        assert_eq!(
            redis_info("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone"),
            Some("7.0.15".into())
        );
        assert_eq!(
            dicom_implementation("OFFIS_DCMTK_367"),
            Some(product("DCMTK", Some("3.6.7")))
        );
    }

    #[test]
    fn cpe_names_are_escaped_and_only_for_known_products() {
        let p = product("OpenSSH", Some("9.2p1"));
        assert_eq!(
            cpe(&p).unwrap(),
            "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"
        );
        assert_eq!(
            cpe(&product("vsftpd", Some("3.0.3+x"))).unwrap(),
            "cpe:2.3:a:beasts:vsftpd:3.0.3\\+x:*:*:*:*:*:*:*"
        );
        assert_eq!(cpe(&product("OpenSSH", None)), None);
        assert_eq!(
            cpes(&product("nginx", Some("1.22.1"))),
            vec![
                "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*",
                "cpe:2.3:a:nginx:nginx:1.22.1:*:*:*:*:*:*:*"
            ]
        );
        assert_eq!(cpe(&product("Acme", Some("1.0"))), None);
    }

    #[test]
    fn text_is_made_printable_and_bounded() {
        assert_eq!(printable(b"\xff\xfb\x01\xff\xfb\x03login: ", 80), "login:");
        assert_eq!(printable(b"a\r\n\tb\x00c", 80), "a bc");
        assert_eq!(printable(&[b'x'; 500], 10).chars().count(), 11);
        assert_eq!(
            html_title(b"<html><TITLE id=x>Orthanc\n Explorer</title>").as_deref(),
            Some("Orthanc Explorer")
        );
        assert_eq!(html_title(b"<title>unterminated"), None);
    }
}
