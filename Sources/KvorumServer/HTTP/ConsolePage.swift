import Crypto
import Foundation

/// The web console, `GET /ui` (docs/operations.md#web-console): one
/// self-contained HTML page, kept here as string literals so the binary
/// carries it (no resource bundle to install beside it).
///
/// The page holds no data, so it is open to everyone; its script polls the
/// same node's `/status` and `/metrics` about once a second and sends the
/// token the operator typed (kept in `sessionStorage`) as
/// `Authorization: Bearer`. Its `Content-Security-Policy` lets it load
/// nothing but itself: the inline style and script are allowed by their
/// SHA-256, requests go to the page's own origin only, and the favicon is
/// an empty `data:` URL so the browser asks for no `/favicon.ico`.
///
/// The elements the browser test reads carry `data-` attributes:
/// `data-member="NAME"` (a row, with `data-state`), `data-ring-member`,
/// `data-banner`, `data-last-updated`, `data-request-rate`.
enum ConsolePage {
    /// The answer to `GET /ui`.
    static let answer = HTTPAnswer(
        status: .ok, body: Array(html.utf8), contentType: "text/html; charset=utf-8",
        headers: [
            ("Content-Security-Policy", contentSecurityPolicy), ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-cache"),
        ])

    /// Nothing from anywhere but what the page itself holds, and requests
    /// only to its own origin.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src '\(sourceHash(script))'", "style-src '\(sourceHash(style))'",
        "connect-src 'self'", "img-src data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Kvorum console</title>
        <link rel="icon" href="data:,">
        <style>\(style)</style>
        </head>
        <body>
        <header>
          <h1>Kvorum</h1>
          <span class="node">node <b data-node>…</b> <span data-ready class="pill">…</span></span>
          <span class="updated">last updated <b data-last-updated>never</b></span>
        </header>
        <div class="banner" data-banner hidden></div>
        <form class="token" data-token-form hidden>
          <label>This node asks for credentials. Token (role <code>monitor</code> or above):
          <input type="password" name="token" autocomplete="off" size="48"></label>
          <button type="submit">Use token</button>
          <span>kept in this tab only (sessionStorage), sent as <code>Authorization: Bearer</code></span>
        </form>
        <main>
          <section class="members">
            <h2>Members</h2>
            <table>
              <thead><tr><th>name</th><th>state</th><th>peer address</th><th>HTTP</th><th class="number">records</th>
              <th class="number">hints pending</th><th class="number">ring share</th>
              <th class="number">last heard</th><th class="number">RTT</th></tr></thead>
              <tbody data-members></tbody>
            </table>
          </section>
          <section class="ring">
            <h2>Ring</h2>
            <svg data-ring viewBox="0 0 120 120" width="200" height="200" role="img" aria-label="ring shares"></svg>
            <ul class="legend" data-ring-legend></ul>
          </section>
          <section class="requests">
            <h2>Requests on this node</h2>
            <div class="figures">
              <div><span class="figure" data-request-rate>–</span><span class="unit">requests/s</span></div>
              <div><span class="figure" data-latency-mean>–</span><span class="unit">mean latency</span></div>
              <div><span class="figure" data-latency-p99>–</span><span class="unit">p99 latency (≤ bucket)</span></div>
              <div><span class="figure" data-hints-total>–</span><span class="unit">hints pending here</span></div>
            </div>
            <svg data-rate-history viewBox="0 0 300 60" width="100%" height="60" preserveAspectRatio="none">
              <polyline points=""></polyline>
            </svg>
            <div class="caption">request rate, last 60 s</div>
            <table class="ops" data-ops-table hidden>
              <thead><tr><th>operation</th><th class="number">requests/s</th><th class="number">mean latency</th></tr></thead>
              <tbody data-ops></tbody>
            </table>
          </section>
        </main>
        <script>\(script)</script>
        </body>
        </html>

        """

    static let style = """
        :root{--up:#1a7f37;--suspected:#bf8700;--down:#cf222e;--joining:#0969da;--leaving:#8250df;
        --ink:#1f2328;--muted:#656d76;--line:#d0d7de;--panel:#f6f8fa}
        *{box-sizing:border-box}
        [hidden]{display:none!important}
        body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:#fff}
        header{display:flex;gap:24px;align-items:baseline;padding:12px 24px;border-bottom:1px solid var(--line);
        background:var(--panel)}
        h1{font-size:20px;margin:0}
        h2{font-size:15px;margin:0 0 8px}
        .updated{margin-left:auto;color:var(--muted)}
        .pill{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;color:#fff;background:var(--muted)}
        .pill.ready{background:var(--up)}
        .pill.not-ready{background:var(--suspected)}
        .banner{margin:12px 24px 0;padding:8px 12px;border:1px solid var(--down);border-radius:6px;
        background:#ffebe9;color:var(--down)}
        .token{margin:12px 24px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
        .token span{color:var(--muted)}
        main{display:grid;grid-template-columns:minmax(0,1fr) 250px;gap:16px;padding:16px 24px}
        section{border:1px solid var(--line);border-radius:6px;padding:12px 16px;overflow-x:auto}
        .members,.requests{grid-column:1}
        .ring{grid-column:2;grid-row:1/span 2}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);white-space:nowrap}
        th{font-weight:600;color:var(--muted);font-size:12px}
        td.number,th.number{text-align:right;font-variant-numeric:tabular-nums}
        .state{display:inline-block;min-width:76px;padding:1px 8px;border-radius:10px;color:#fff;text-align:center}
        .state-up{background:var(--up)}.state-suspected{background:var(--suspected)}.state-down{background:var(--down)}
        .state-joining{background:var(--joining)}.state-leaving{background:var(--leaving)}
        .state-unknown{background:var(--muted)}
        tr.self td:first-child{font-weight:600}
        .legend{list-style:none;padding:0;margin:8px 0 0}
        .legend li{display:flex;gap:8px;align-items:center;padding:2px 0}
        .swatch{width:12px;height:12px;border-radius:2px;display:inline-block}
        .legend .share{margin-left:auto;font-variant-numeric:tabular-nums}
        circle.arc{fill:none;stroke-width:18}
        circle.arc.down{opacity:.35}
        .figures{display:flex;gap:32px;margin-bottom:8px}
        .figure{display:block;font-size:24px;font-variant-numeric:tabular-nums}
        .unit,.caption{color:var(--muted);font-size:12px}
        polyline{fill:none;stroke:var(--joining);stroke-width:1.5;vector-effect:non-scaling-stroke}
        svg[data-rate-history]{border-bottom:1px solid var(--line)}
        .ops{margin-top:8px}
        .stale main{opacity:.55}
        """

    /// The page's behaviour. The metric names it reads are in `METRICS`;
    /// Prometheus text is parsed generically (any labels), so a family
    /// relabelled by operation or outcome is summed, and shown per `op`
    /// when it has that label.
    static let script = #"""
        "use strict";
        const METRICS = {
          requestDuration: "kvorum_client_request_duration_seconds",
          hintsPending: "kvorum_hints_pending",
        };
        const POLL_MS = 1000;
        const HISTORY = 60;
        const STATES = ["up", "suspected", "down", "joining", "leaving"];
        const PALETTE = ["#0969da", "#1a7f37", "#bf8700", "#8250df", "#cf222e", "#1b7c83", "#9a6700", "#bc4c00"];
        const $ = (selector) => document.querySelector(selector);
        let previous = null;
        const rates = [];
        let failingSince = null;

        function headers() {
          const token = sessionStorage.getItem("kvorum-token");
          return token ? { Authorization: "Bearer " + token } : {};
        }

        async function fetchText(path) {
          const response = await fetch(path, { headers: headers(), cache: "no-store", credentials: "same-origin" });
          if (response.status === 401 || response.status === 403) {
            const error = new Error(path + " answered " + response.status + ": a token with the role monitor is needed");
            error.needsToken = true;
            throw error;
          }
          if (!response.ok) throw new Error(path + " answered " + response.status);
          return response.text();
        }

        function parsePrometheus(text) {
          const samples = [];
          for (const line of text.split("\n")) {
            if (line === "" || line.startsWith("#")) continue;
            const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
            if (!match) continue;
            const labels = {};
            for (const pair of (match[2] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
              labels[pair[1]] = pair[2];
            }
            samples.push({ name: match[1], labels, value: Number(match[3]) });
          }
          return samples;
        }

        function histogram(samples, family) {
          const total = { count: 0, sum: 0, buckets: new Map() };
          const byOp = new Map();
          for (const sample of samples) {
            const op = sample.labels.op;
            if (op !== undefined && !byOp.has(op)) byOp.set(op, { count: 0, sum: 0 });
            if (sample.name === family + "_count") {
              total.count += sample.value;
              if (op !== undefined) byOp.get(op).count += sample.value;
            } else if (sample.name === family + "_sum") {
              total.sum += sample.value;
              if (op !== undefined) byOp.get(op).sum += sample.value;
            } else if (sample.name === family + "_bucket") {
              const le = Number(sample.labels.le);
              total.buckets.set(le, (total.buckets.get(le) || 0) + sample.value);
            }
          }
          return { total, byOp };
        }

        function gauge(samples, name) {
          return samples.filter((sample) => sample.name === name).reduce((sum, sample) => sum + sample.value, 0);
        }

        function seconds(value) {
          if (!Number.isFinite(value)) return "–";
          if (value < 1e-3) return (value * 1e6).toFixed(0) + " µs";
          if (value < 1) return (value * 1e3).toFixed(value < 0.01 ? 2 : 1) + " ms";
          return value.toFixed(2) + " s";
        }

        function quantileBound(now, before, fraction) {
          const count = now.count - before.count;
          if (count <= 0) return NaN;
          const bounds = [...now.buckets.keys()].sort((a, b) => a - b);
          for (const bound of bounds) {
            const delta = now.buckets.get(bound) - (before.buckets.get(bound) || 0);
            if (delta >= fraction * count) return bound;
          }
          return Infinity;
        }

        function renderMetrics(text, time) {
          const samples = parsePrometheus(text);
          const current = { time, ...histogram(samples, METRICS.requestDuration) };
          $("[data-hints-total]").textContent = String(gauge(samples, METRICS.hintsPending));
          const before = previous;
          previous = current;
          if (!before || current.total.count < before.total.count) return;
          const elapsed = (time - before.time) / 1000;
          const count = current.total.count - before.total.count;
          const rate = count / elapsed;
          rates.push(rate);
          if (rates.length > HISTORY) rates.shift();
          const rateCell = $("[data-request-rate]");
          rateCell.textContent = rate.toFixed(1);
          rateCell.dataset.value = String(rate);
          $("[data-latency-mean]").textContent = count > 0 ? seconds((current.total.sum - before.total.sum) / count) : "–";
          const p99 = quantileBound(current.total, before.total, 0.99);
          $("[data-latency-p99]").textContent = seconds(p99);
          const peak = Math.max(1, ...rates);
          const points = rates.map((value, index) =>
            ((index + HISTORY - rates.length) * 300 / (HISTORY - 1)).toFixed(1) + "," + (58 - value / peak * 54).toFixed(1));
          $("[data-rate-history] polyline").setAttribute("points", points.join(" "));
          const rows = [];
          for (const [op, now] of [...current.byOp].sort((a, b) => a[0].localeCompare(b[0]))) {
            const then = before.byOp.get(op) || { count: 0, sum: 0 };
            const opCount = now.count - then.count;
            const row = document.createElement("tr");
            row.dataset.op = op;
            row.append(cell(op), cell((opCount / elapsed).toFixed(1), "number"),
              cell(opCount > 0 ? seconds((now.sum - then.sum) / opCount) : "–", "number"));
            rows.push(row);
          }
          $("[data-ops]").replaceChildren(...rows);
          $("[data-ops-table]").hidden = rows.length === 0;
        }

        function cell(text, className) {
          const element = document.createElement("td");
          element.textContent = text;
          if (className) element.className = className;
          return element;
        }

        function colourOf(names, name) {
          return PALETTE[names.indexOf(name) % PALETTE.length];
        }

        function renderStatus(status) {
          $("[data-node]").textContent = status.node;
          const ready = $("[data-ready]");
          ready.textContent = status.ready ? "ready" : "not ready";
          ready.className = "pill " + (status.ready ? "ready" : "not-ready");
          const members = [...status.members].sort((a, b) => a.name.localeCompare(b.name));
          const names = members.map((member) => member.name);
          const rows = members.map((member) => {
            const row = document.createElement("tr");
            const state = STATES.includes(member.state) ? member.state : "unknown";
            row.dataset.member = member.name;
            row.dataset.state = member.state;
            if (member.self) row.className = "self";
            const badge = document.createElement("span");
            badge.className = "state state-" + state;
            badge.textContent = member.state;
            const stateCell = cell("");
            stateCell.append(badge);
            const name = cell(member.name + (member.self ? " (this node)" : ""));
            row.append(name, stateCell, cell(member.address ?? "–"), cell(member.http ?? "–"),
              cell(member.records ?? "–", "number"), cell(member.hintsPending ?? "–", "number"),
              cell(member.ringShare == null ? "–" : (member.ringShare * 100).toFixed(1) + " %", "number"),
              cell(member.lastHeardSeconds == null ? "–" : member.lastHeardSeconds.toFixed(1) + " s ago", "number"),
              cell(member.rttMs == null ? "–" : member.rttMs.toFixed(2) + " ms", "number"));
            return row;
          });
          $("[data-members]").replaceChildren(...rows);
          renderRing(members, names);
        }

        function renderRing(members, names) {
          const svgNS = $("[data-ring]").namespaceURI;
          const radius = 45;
          const circumference = 2 * Math.PI * radius;
          const arcs = [];
          const items = [];
          let offset = 0;
          for (const member of members) {
            const share = member.ringShare ?? 0;
            const arc = document.createElementNS(svgNS, "circle");
            arc.setAttribute("class", "arc" + (member.state === "down" ? " down" : ""));
            arc.setAttribute("cx", "60");
            arc.setAttribute("cy", "60");
            arc.setAttribute("r", String(radius));
            arc.setAttribute("stroke", colourOf(names, member.name));
            arc.setAttribute("stroke-dasharray", (share * circumference) + " " + circumference);
            arc.setAttribute("stroke-dashoffset", String(-offset * circumference));
            arc.setAttribute("transform", "rotate(-90 60 60)");
            arc.dataset.ringMember = member.name;
            arc.dataset.share = String(share);
            arcs.push(arc);
            offset += share;
            const item = document.createElement("li");
            item.dataset.ringMember = member.name;
            const swatch = document.createElement("span");
            swatch.className = "swatch";
            swatch.style.background = colourOf(names, member.name);
            const label = document.createElement("span");
            label.textContent = member.name + (member.state === "up" ? "" : " (" + member.state + ")");
            const figure = document.createElement("span");
            figure.className = "share";
            figure.textContent = (share * 100).toFixed(1) + " %";
            item.append(swatch, label, figure);
            items.push(item);
          }
          $("[data-ring]").replaceChildren(...arcs);
          $("[data-ring-legend]").replaceChildren(...items);
        }

        function showError(message, needsToken) {
          const banner = $("[data-banner]");
          if (failingSince === null) failingSince = new Date();
          banner.textContent = message + " (since " + failingSince.toLocaleTimeString() + "; still trying every second)";
          banner.hidden = false;
          document.body.classList.add("stale");
          $("[data-token-form]").hidden = !needsToken;
        }

        function clearError() {
          failingSince = null;
          $("[data-banner]").hidden = true;
          $("[data-token-form]").hidden = true;
          document.body.classList.remove("stale");
        }

        async function refresh() {
          try {
            const [statusText, metricsText] = await Promise.all([fetchText("/status"), fetchText("/metrics")]);
            const now = Date.now();
            renderStatus(JSON.parse(statusText));
            renderMetrics(metricsText, now);
            const updated = $("[data-last-updated]");
            updated.textContent = new Date(now).toLocaleTimeString();
            updated.dataset.time = String(now);
            clearError();
          } catch (error) {
            const reason = error instanceof TypeError ? "the node does not answer (" + error.message + ")" : error.message;
            showError(reason, Boolean(error.needsToken));
          } finally {
            setTimeout(refresh, POLL_MS);
          }
        }

        $("[data-token-form]").addEventListener("submit", (event) => {
          event.preventDefault();
          const token = event.target.elements.token.value.trim();
          if (token) sessionStorage.setItem("kvorum-token", token);
          else sessionStorage.removeItem("kvorum-token");
          event.target.reset();
        });
        refresh();

        """#

    /// A CSP source expression allowing exactly this inline text.
    private static func sourceHash(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Array(text.utf8))).base64EncodedString()
    }
}
