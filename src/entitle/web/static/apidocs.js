// The API reference, drawn in the page from /openapi.json: no CDN, no inline script, no
// HTML parsing of the schema (every text goes in as text nodes). Served with the pages' Content-Security-Policy.
"use strict";
(function () {
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function refName(ref) { return ref.split("/").pop(); }
  function typeOf(s) {
    if (!s) return "";
    if (s.$ref) return refName(s.$ref);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
    if (s.allOf) return s.allOf.map(typeOf).join(" & ");
    if (s.type === "array") return typeOf(s.items) + "[]";
    var t = s.type || "object";
    if (s.format) t += " (" + s.format + ")";
    if (s.enum) t += ": " + s.enum.join(", ");
    return t;
  }
  function schemaLink(s) {
    var name = typeOf(s);
    var ref = s && (s.$ref || (s.items && s.items.$ref));
    return ref ? el("a", { href: "#schema-" + refName(ref) }, [name]) : el("code", {}, [name]);
  }
  function table(caption, head, rows) {
    var thead = el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col" }, [h]); }))]);
    var body = el("tbody", {}, rows.map(function (r) {
      return el("tr", {}, r.map(function (c) { return el("td", {}, [c]); }));
    }));
    return el("div", { class: "scroll" }, [el("table", {}, [el("caption", {}, [caption]), thead, body])]);
  }
  function operation(path, method, op) {
    var id = (op.operationId || method + path).replace(/[^A-Za-z0-9_-]/g, "-");
    var parts = [el("summary", {}, [el("code", {}, [method.toUpperCase() + " " + path]), " — " + (op.summary || "")])];
    if (op.description) parts.push(el("p", { class: "wrap" }, [op.description]));
    var params = op.parameters || [];
    if (params.length) {
      parts.push(table("Parameters", ["name", "in", "required", "type", "description"], params.map(function (p) {
        return [el("code", {}, [p.name]), p.in, p.required ? "yes" : "no", schemaLink(p.schema), p.description || ""];
      })));
    }
    if (op.requestBody && op.requestBody.content) {
      var bodies = Object.keys(op.requestBody.content).map(function (kind) {
        return [kind, schemaLink(op.requestBody.content[kind].schema)];
      });
      parts.push(table("Request body", ["content type", "schema"], bodies));
    }
    var codes = Object.keys(op.responses || {});
    if (codes.length) {
      parts.push(table("Responses", ["status", "description"], codes.map(function (c) {
        return [c, op.responses[c].description || ""];
      })));
    }
    return el("details", { id: "op-" + id, class: "card operation" }, parts);
  }
  function schemas(all) {
    var box = document.getElementById("api-schemas");
    Object.keys(all).sort().forEach(function (name) {
      var s = all[name];
      var props = s.properties || {};
      var required = s.required || [];
      var rows = Object.keys(props).map(function (p) {
        return [el("code", {}, [p]), schemaLink(props[p]), required.indexOf(p) >= 0 ? "yes" : "no", props[p].description || ""];
      });
      var parts = [el("h3", { id: "schema-" + name }, [name])];
      if (s.description) parts.push(el("p", {}, [s.description]));
      parts.push(rows.length ? table(name + " fields", ["field", "type", "required", "description"], rows) : el("p", {}, [typeOf(s)]));
      box.appendChild(el("section", { class: "card" }, parts));
    });
  }
  function draw(spec) {
    document.getElementById("api-title").textContent = (spec.info.title || "API") + " API " + (spec.info.version || "");
    document.title = (spec.info.title || "API") + " API";
    var byTag = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push(operation(path, method, op));
      });
    });
    var nav = document.getElementById("api-tags");
    var ops = document.getElementById("api-operations");
    var count = 0;
    Object.keys(byTag).sort().forEach(function (tag) {
      nav.appendChild(el("a", { href: "#tag-" + tag }, [tag]));
      ops.appendChild(el("h2", { id: "tag-" + tag }, [tag]));
      byTag[tag].forEach(function (node) { ops.appendChild(node); count += 1; });
    });
    nav.appendChild(el("a", { href: "#schemas" }, ["schemas"]));
    schemas((spec.components && spec.components.schemas) || {});
    var status = document.getElementById("api-status");
    status.textContent = count + " operations, from /openapi.json (OpenAPI " + spec.openapi + ")";
    status.setAttribute("data-ready", "yes");
  }
  fetch("/openapi.json", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(draw)
    .catch(function (e) {
      var status = document.getElementById("api-status");
      status.textContent = "The schema could not be read: " + e.message;
      status.className = "error";
    });
})();
