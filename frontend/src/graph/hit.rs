//! What a pointer event landed on, read from the `data-*` attributes [`super::scene`] draws,
//! and where it landed in view coordinates. The browser half of the hosts' gesture handling.

use wasm_bindgen::JsCast;

/// The part of the graph under the pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Hit {
    /// An output port handle of a node.
    Port {
        node: String,
        port: String,
    },
    Node(String),
    /// An edge, by its index in the definition.
    Edge(usize),
    /// The canvas itself.
    Background,
}

/// Classifies an event target by its closest marked ancestor.
pub fn hit(target: Option<web_sys::EventTarget>) -> Hit {
    let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return Hit::Background;
    };
    let closest = |sel: &str| el.closest(sel).ok().flatten();
    if let Some(port) = closest("[data-port]") {
        let node = closest("[data-node]").and_then(|n| n.get_attribute("data-node"));
        if let (Some(node), Some(port)) = (node, port.get_attribute("data-port")) {
            return Hit::Port { node, port };
        }
    }
    if let Some(id) = closest("[data-node]").and_then(|n| n.get_attribute("data-node")) {
        return Hit::Node(id);
    }
    if let Some(i) = closest("[data-edge]")
        .and_then(|n| n.get_attribute("data-edge"))
        .and_then(|i| i.parse().ok())
    {
        return Hit::Edge(i);
    }
    Hit::Background
}

/// A client (window) point in pixels from the top-left of `el`.
pub fn local_point(el: &web_sys::Element, client: (f64, f64)) -> (f64, f64) {
    let r = el.get_bounding_client_rect();
    (client.0 - r.left(), client.1 - r.top())
}

/// The size of `el` in pixels.
pub fn size(el: &web_sys::Element) -> (f64, f64) {
    let r = el.get_bounding_client_rect();
    (r.width(), r.height())
}
