//! `GET /images/{product_id}.svg`: a simple generated picture per product (a coloured card
//! with the title), so the demo needs no image files.

use super::{catalog, ApiState};
use crate::error::AppError;
use crate::extract::Path;
use crate::templates::escape_html;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/images/{file}", get(image))
}

/// A generated SVG picture of a product (`Cache-Control: public, max-age=3600`).
#[utoipa::path(
    get,
    path = "/images/{file}",
    tag = "widget",
    params(("file" = String, Path, description = "`{product_id}.svg`.", example = "red-tee.svg")),
    responses(
        (status = 200, description = "The picture.", content_type = "image/svg+xml", body = String),
        (status = 404, description = "`not_found`: no such product, or not `.svg`.", body = tweetbuy_core::ApiError),
    )
)]
async fn image(State(state): State<ApiState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("There is no such image.");
    let product_id = file.strip_suffix(".svg").ok_or_else(not_found)?;
    let title = catalog::title(&state.db, product_id).await?.ok_or_else(not_found)?;
    Ok(([(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "public, max-age=3600")], product_svg(product_id, &title))
        .into_response())
}

/// The picture: colours derived from the product id, the title wrapped onto a few lines.
/// Presentation attributes only, no `style`, so the api's strict CSP does not affect it.
pub fn product_svg(product_id: &str, title: &str) -> String {
    let digest = Sha256::digest(product_id.as_bytes());
    let hue = u16::from_be_bytes([digest[0], digest[1]]) % 360;
    let mut lines: Vec<String> = Vec::new();
    for word in title.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + word.chars().count() < 18 => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines.truncate(4);
    let start = 200 - (lines.len() as i32 - 1) * 22;
    let text: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            format!(r#"<text x="200" y="{}" text-anchor="middle">{}</text>"#, start + i as i32 * 44, escape_html(line))
        })
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400" role="img" aria-label="{label}"><rect width="400" height="400" rx="24" fill="hsl({hue},55%,42%)"/><rect x="24" y="24" width="352" height="352" rx="16" fill="none" stroke="#ffffff" stroke-opacity="0.35" stroke-width="4"/><g fill="#ffffff" font-family="system-ui, sans-serif" font-size="34" font-weight="700">{text}</g></svg>"##,
        label = escape_html(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_escapes_the_title() {
        let svg = product_svg("p", "Tee <script> & more");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert_ne!(product_svg("a", "x"), product_svg("b", "x"), "colour follows the id");
    }
}
