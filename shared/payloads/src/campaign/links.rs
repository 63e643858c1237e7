//! Deeplinks and image URLs (seed: "Landing page on mobileweb browser or
//! app deeplink supported", "Image File Hosting: CDN bucket", "Image File
//! Format: .jpeg, .png and .gif supported").

use super::{ContentField, FieldProblem, Problem};

/// Image file extensions accepted (seed: ".jpeg, .png and .gif supported";
/// `.jpg` is the same JPEG format under its other common extension).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpeg", "jpg", "png", "gif"];

/// A URL split just enough to check it: scheme, authority, path.
///
/// Not the `url` crate: it parses as browsers do (WHATWG), which repairs
/// what these rules refuse, such as `https:///offer` read as the host
/// `offer` (test `deeplinks_are_https_landing_pages_or_app_deeplinks`), and
/// normalises the text that is sent as written.
struct UrlParts<'a> {
    scheme: String,
    /// After `scheme://`, up to the first `/`, `?` or `#`; `None` when the
    /// URL has no `//`.
    authority: Option<&'a str>,
    /// The path, without query or fragment.
    path: &'a str,
}

fn split_url(value: &str) -> Result<UrlParts<'_>, &'static str> {
    if value.trim().is_empty() {
        return Err("is blank");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters; percent-encode them");
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return Err("is not an absolute URL: it has no scheme such as https://");
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err("is not an absolute URL: it has no scheme such as https://");
    }
    let scheme = scheme.to_ascii_lowercase();
    let (authority, after) = match rest.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (Some(&rest[..end]), &rest[end..])
        }
        None => (None, rest),
    };
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    Ok(UrlParts { scheme, authority, path: &after[..path_end] })
}

/// The host of an authority (`user@host:port`), checked for shape only.
fn host_ok(authority: &str) -> bool {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => return v6.ends_with(']') || v6.contains("]:"),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// Schemes that are neither a landing page nor an app deeplink.
const FORBIDDEN_DEEPLINK_SCHEMES: &[&str] =
    &["javascript", "data", "file", "content", "about", "blob", "vbscript", "ftp", "ws", "wss"];

/// "Landing page on mobileweb browser or app deeplink supported": an
/// `https://host/…` landing page, or an app deeplink `scheme://…`.
pub(super) fn check_deeplink(value: &str, problems: &mut Vec<FieldProblem>) {
    let field = ContentField::Deeplink.path();
    let reason = match split_url(value) {
        Err(reason) => Some(reason),
        Ok(url) if FORBIDDEN_DEEPLINK_SCHEMES.contains(&url.scheme.as_str()) => {
            Some("is neither a landing page (https://…) nor an app deeplink (yourapp://…)")
        }
        Ok(url) if url.scheme == "http" => Some("landing pages must use https://, not http://"),
        Ok(url) if url.scheme == "https" => match url.authority {
            Some(a) if host_ok(a) => None,
            _ => Some("landing page URL has no valid host"),
        },
        Ok(url) => match url.authority {
            Some(a) if !a.is_empty() || !url.path.trim_start_matches('/').is_empty() => None,
            Some(_) => Some("app deeplink has nothing after scheme://"),
            None => Some("is neither a landing page (https://…) nor an app deeplink (yourapp://…)"),
        },
    };
    if let Some(reason) = reason {
        problems.push(FieldProblem::new(field, Problem::BadDeeplink { reason }));
    }
}

/// "Image File Hosting: CDN bucket" and "Image File Format: .jpeg, .png and
/// .gif supported": an `https://` URL with a host whose path ends in one of
/// [`IMAGE_EXTENSIONS`] (any case; query and fragment ignored).
pub(super) fn check_image_url(value: &str, problems: &mut Vec<FieldProblem>) {
    let field = ContentField::ImageUrl.path();
    let url = match split_url(value) {
        Ok(url) => url,
        Err(reason) => {
            problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason }));
            return;
        }
    };
    if url.scheme != "https" {
        let reason = "must be an https:// URL of the image on a CDN";
        problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason }));
        return;
    }
    if !url.authority.is_some_and(host_ok) {
        problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason: "has no valid host" }));
        return;
    }
    let file = url.path.rsplit('/').next().unwrap_or("");
    let extension = file.rsplit_once('.').map_or("", |(_, ext)| ext);
    if !IMAGE_EXTENSIONS.iter().any(|ok| extension.eq_ignore_ascii_case(ok)) {
        problems.push(FieldProblem::new(field, Problem::ImageFormat { extension: extension.to_owned() }));
    }
}
