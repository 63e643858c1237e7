use super::*;

#[test]
fn deeplinks_are_https_landing_pages_or_app_deeplinks() {
    for ok in [
        "https://example.com",
        "https://example.com/offer?id=7&src=truecaller#top",
        "HTTPS://Example.COM/Offer",
        "https://user@example.com:8443/a",
        "https://[2001:db8::1]/a",
        "https://उदाहरण.भारत/offer",
        "myapp://offer/123",
        "my-app.v2+x://offer",
        "myapp:///offer",
        "intent://scan/#Intent;scheme=zxing;package=com.example;end",
    ] {
        let mut campaign = acs_plain();
        campaign.content.deeplink = Some(ok.into());
        assert!(campaign.validate().is_ok(), "{ok}: {:?}", acs_with_deeplink(ok).problems());
    }
    for bad in [
        "http://example.com/offer",
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "content://com.example/x",
        "ftp://example.com/a",
        "example.com/offer",
        "www.example.com",
        "/offer",
        "https://",
        "https:///offer",
        "https://exa mple.com",
        "https://example..com",
        "tel:+919876543210",
        "mailto:a@example.com",
        "myapp://",
        "://offer",
        "1app://offer",
        "https://example.com/\u{7}",
    ] {
        let problems = acs_with_deeplink(bad).problems();
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert_eq!(problems[0].field, "content.deeplink", "{bad:?}");
        assert!(matches!(problems[0].problem, Problem::BadDeeplink { .. }), "{bad:?}: {problems:?}");
    }
}

fn acs_with_deeplink(deeplink: &str) -> Campaign {
    let mut campaign = acs_plain();
    campaign.content.deeplink = Some(deeplink.into());
    campaign
}

fn banner_with_image(url: &str) -> Campaign {
    let mut campaign = valid(DisplayUnit::MessageId, TemplateStyle::ImageBanner);
    campaign.content.image_url = Some(url.into());
    campaign
}

#[test]
fn image_urls_are_https_and_jpeg_png_or_gif() {
    for ok in [
        "https://cdn.example.com/banner.png",
        "https://cdn.example.com/a/b/banner.PNG",
        "https://cdn.example.com/banner.jpg",
        "https://cdn.example.com/banner.jpeg",
        "https://cdn.example.com/banner.JPEG",
        "https://cdn.example.com/banner.gif",
        "https://cdn.example.com/banner.png?v=2&w=320",
        "https://cdn.example.com/banner.gif#frame",
        "https://bucket.s3.ap-south-1.amazonaws.com/vc/offer.v2.png",
    ] {
        assert!(banner_with_image(ok).validate().is_ok(), "{ok}: {:?}", banner_with_image(ok).problems());
    }
    for (bad, extension) in [
        ("https://cdn.example.com/banner.webp", "webp"),
        ("https://cdn.example.com/banner.svg", "svg"),
        ("https://cdn.example.com/banner.bmp", "bmp"),
        ("https://cdn.example.com/banner", ""),
        ("https://cdn.example.com/", ""),
        ("https://cdn.example.com", ""),
        ("https://cdn.example.com/img?name=banner.png", ""),
        ("https://cdn.example.com/banner.png.exe", "exe"),
        ("https://cdn.example.com/png", ""),
    ] {
        assert_eq!(
            banner_with_image(bad).validate().unwrap_err(),
            one("content.image_url", Problem::ImageFormat { extension: extension.into() }),
            "{bad}"
        );
    }
    for bad in [
        "http://cdn.example.com/banner.png",
        "cdn.example.com/banner.png",
        "//cdn.example.com/banner.png",
        "https:///banner.png",
        "https://cdn example.com/banner.png",
        "ftp://cdn.example.com/banner.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "myapp://banner.png",
    ] {
        let problems = banner_with_image(bad).problems();
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert_eq!(problems[0].field, "content.image_url");
        assert!(matches!(problems[0].problem, Problem::BadImageUrl { .. }), "{bad:?}: {problems:?}");
    }
}
