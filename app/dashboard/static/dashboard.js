// The monitoring page and its sign-in page.
//
// Every piece of data is put into the page with textContent / createElement(NS), never as markup, so an
// agent id like `<img src=x onerror=...>` is shown as the text it is. The staff token lives in
// sessionStorage (gone when the tab closes) and is only ever sent in the Authorization header.
(function () {
  "use strict";

  const SIGNIN_URL = "/dashboard/signin";
  const MONITORING_URL = "/dashboard/monitoring";
  const TOKEN_KEY = "agentMetrics.token";
  const EXPIRES_KEY = "agentMetrics.expiresAt";
  const FLASH_KEY = "agentMetrics.flash";
  const EXPIRED_MESSAGE = "Your session has expired, please sign in again";
  const SIGNED_OUT_MESSAGE = "You have signed out.";
  const DRILLDOWN_PAGE_SIZE = 50;
  const AGENTS_SHOWN = 10;
  const AGENTS_FETCHED = 500; // the API's page limit
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ---- DOM helpers: the only way this file creates nodes ---------------------------------------------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    applyProps(node, props);
    appendAll(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    appendAll(node, children);
    return node;
  }

  function applyProps(node, props) {
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, String(value));
    }
  }

  function appendAll(node, children) {
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  function replaceChildren(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    appendAll(node, children);
  }

  const $ = (id) => document.getElementById(id);

  // A path that may wrap after each "/" (text nodes with <wbr> between them, never parsed as markup).
  function breakable(text) {
    const parts = String(text).split("/");
    const nodes = [];
    parts.forEach((part, i) => {
      nodes.push(document.createTextNode(i < parts.length - 1 ? part + "/" : part));
      if (i < parts.length - 1) nodes.push(document.createElement("wbr"));
    });
    return el("span", {}, nodes);
  }

  // ---- Session ---------------------------------------------------------------------------------------

  const session = {
    token() {
      return sessionStorage.getItem(TOKEN_KEY);
    },
    save(token, expiresInSeconds) {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + Number(expiresInSeconds || 0) * 1000));
    },
    expired() {
      const at = Number(sessionStorage.getItem(EXPIRES_KEY));
      return Number.isFinite(at) && at > 0 && Date.now() >= at;
    },
    clear() {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(EXPIRES_KEY);
    },
    // A one-shot message for the sign-in page, kept out of the URL like the token.
    flash(message) {
      sessionStorage.setItem(FLASH_KEY, message);
    },
    takeFlash() {
      const message = sessionStorage.getItem(FLASH_KEY);
      sessionStorage.removeItem(FLASH_KEY);
      return message;
    },
  };

  // Several loads run at once, and each may find the session expired: navigate once, or every further
  // assign() would abort the navigation already under way.
  let leaving = false;
  function backToSignin(message) {
    if (leaving) return;
    leaving = true;
    session.clear();
    if (message) session.flash(message);
    window.location.assign(SIGNIN_URL);
  }

  // ---- Sign-in page ----------------------------------------------------------------------------------

  function initSignin() {
    const form = $("signin-form");
    const errorText = $("signin-error");
    const notice = $("signin-message");
    const flash = session.takeFlash();
    if (flash) {
      notice.textContent = flash;
      notice.hidden = false;
    }
    if (session.token() && !session.expired()) {
      window.location.replace(MONITORING_URL);
      return;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorText.hidden = true;
      const button = $("signin-button");
      button.disabled = true;
      try {
        const response = await fetch("/auth/signin", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ email: form.email.value.trim(), password: form.password.value }),
          cache: "no-store",
        });
        if (!response.ok) {
          throw new Error(
            response.status === 401 || response.status === 422
              ? "Wrong email or password."
              : "Sign-in failed: " + (await errorReason(response)),
          );
        }
        const body = await response.json();
        session.save(body.access_token, body.expires_in);
        window.location.assign(MONITORING_URL);
      } catch (error) {
        errorText.textContent = error instanceof TypeError ? "Could not reach the server." : error.message;
        errorText.hidden = false;
        button.disabled = false;
      }
    });
  }

  // ---- API -------------------------------------------------------------------------------------------

  class LoadError extends Error {}
  // Thrown once the page is already on its way back to sign-in: nothing more to show.
  class SessionEnded extends Error {}

  async function errorReason(response) {
    let detail = "";
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (_) {
      detail = "";
    }
    const head = "HTTP " + response.status + (response.statusText ? " " + response.statusText : "");
    return detail ? head + ": " + detail : head;
  }

  async function api(path) {
    let response;
    try {
      response = await fetch(path, {
        headers: { Authorization: "Bearer " + session.token(), Accept: "application/json" },
        cache: "no-store",
      });
    } catch (_) {
      throw new LoadError("could not reach the server");
    }
    if (response.status === 401) {
      backToSignin(EXPIRED_MESSAGE);
      throw new SessionEnded("session expired");
    }
    if (!response.ok) throw new LoadError(path.split("?")[0] + " answered " + (await errorReason(response)));
    return response.json();
  }

  // Health is public and reports a down database as 503 with a body, so it is read without the token.
  async function fetchHealth() {
    try {
      const response = await fetch("/agent/metrics/health", { cache: "no-store" });
      const body = await response.json().catch(() => ({}));
      return { ok: response.ok, httpStatus: response.status, body: body };
    } catch (_) {
      return { ok: false, httpStatus: 0, body: {} };
    }
  }

  // ---- Formatting ------------------------------------------------------------------------------------

  const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  const isNumber = (v) => v !== null && v !== undefined && v !== "" && Number.isFinite(Number(v));
  const fmtInt = (v) => (isNumber(v) ? intFormat.format(Number(v)) : "–");
  const fmtOne = (v) => (isNumber(v) ? oneDecimal.format(Number(v)) : "–");
  const fmtMoney = (v) => (isNumber(v) ? money.format(Number(v)) : "–");
  const pad = (n) => String(n).padStart(2, "0");
  const clock = (d) => pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  const dateTime = (d) =>
    d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + clock(d);

  function ago(date) {
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 90) return seconds + " s ago";
    if (seconds < 90 * 60) return Math.round(seconds / 60) + " min ago";
    return Math.round(seconds / 3600) + " h ago";
  }

  // ---- States against the original's guidance --------------------------------------------------------
  // Success rate under 95 % needs investigating; response time over 200 ms needs optimising and over
  // 500 ms is an alert. Every state has words as well as a colour.

  const NO_DATA = { level: "none", words: "No data" };

  function successState(rate) {
    if (!isNumber(rate)) return NO_DATA;
    return Number(rate) < 95
      ? { level: "alert", words: "Investigate: under 95 %" }
      : { level: "ok", words: "Healthy: 95 % or more" };
  }

  function latencyState(ms) {
    if (!isNumber(ms)) return NO_DATA;
    if (Number(ms) > 500) return { level: "alert", words: "Alert: over 500 ms", short: "Alert" };
    if (Number(ms) > 200) return { level: "warn", words: "Needs optimisation: over 200 ms", short: "Optimise" };
    return { level: "ok", words: "Good: 200 ms or less", short: "Good" };
  }

  function trafficState(lastHour, last24h) {
    if (!isNumber(last24h) || Number(last24h) === 0) return { level: "warn", words: "No traffic in 24 h" };
    if (Number(lastHour) === 0) return { level: "none", words: "Quiet: none in the last hour" };
    return { level: "ok", words: "Traffic flowing" };
  }

  function agentsState(active) {
    return isNumber(active) && Number(active) > 0
      ? { level: "ok", words: "Agents active" }
      : { level: "warn", words: "No active agents" };
  }

  const STATE_MARK = { ok: "✓", warn: "!", alert: "✕", none: "–" };

  // `compact` badges (beside a secondary figure) use the short word; the full words stay in the tooltip.
  function stateBadge(state, compact) {
    const words = compact && state.short ? state.short : state.words;
    return el("span", { className: "state state-" + state.level, title: state.words }, [
      el("span", { className: "state-mark", "aria-hidden": "true", text: STATE_MARK[state.level] }),
      el("span", { text: words }),
    ]);
  }

  // ---- Cards -----------------------------------------------------------------------------------------

  // A figure: the number in its own element (data-field names the API field it shows) and its unit.
  function figure(field, text, unit) {
    return el("span", { className: "figure" }, [
      el("span", { className: "value", dataset: { field: field }, text: text }),
      unit ? el("span", { className: "unit", text: unit }) : null,
    ]);
  }

  function card(id, title, main, rows, state) {
    const list = rows.length
      ? el(
          "dl",
          { className: "sub" },
          rows.flatMap((row) => [
            el("dt", { text: row.label }),
            el("dd", {}, [row.figure, row.state ? stateBadge(row.state, true) : null]),
          ]),
        )
      : null;
    return el("article", { className: "card", id: "card-" + id, dataset: { state: state ? state.level : "info" } }, [
      el("h3", { text: title }),
      el("div", { className: "main" }, [].concat(main)),
      state ? stateBadge(state) : null,
      list,
    ]);
  }

  function renderCards(summary) {
    const o = summary.overview || {};
    const p = summary.performance || {};
    const a = summary.agents || {};
    const orders = summary.orders || {};
    const cards = [
      card(
        "requests",
        "Requests, last hour",
        figure("overview.requests_last_hour", fmtInt(o.requests_last_hour)),
        [
          { label: "24 h", figure: figure("overview.requests_last_24h", fmtInt(o.requests_last_24h)) },
          { label: "7 days", figure: figure("overview.requests_last_7d", fmtInt(o.requests_last_7d)) },
          { label: "Total", figure: figure("overview.total_requests", fmtInt(o.total_requests)) },
        ],
        trafficState(o.requests_last_hour, o.requests_last_24h),
      ),
      card(
        "success",
        "Success rate, 24 h",
        figure("performance.success_rate_24h", fmtOne(p.success_rate_24h), "%"),
        [],
        successState(p.success_rate_24h),
      ),
      card(
        "latency",
        "Response time, 24 h",
        [
          el("span", { className: "main-label", text: "avg" }),
          figure("performance.avg_response_time_ms", fmtOne(p.avg_response_time_ms), "ms"),
        ],
        [
          {
            label: "p95",
            figure: figure("performance.p95_response_time_ms", fmtOne(p.p95_response_time_ms), "ms"),
            state: latencyState(p.p95_response_time_ms),
          },
          {
            label: "p99",
            figure: figure("performance.p99_response_time_ms", fmtOne(p.p99_response_time_ms), "ms"),
            state: latencyState(p.p99_response_time_ms),
          },
        ],
        latencyState(p.avg_response_time_ms),
      ),
      card(
        "agents",
        "Active agents, 24 h",
        figure("agents.active_last_24h", fmtInt(a.active_last_24h)),
        [],
        agentsState(a.active_last_24h),
      ),
      card("orders", "Orders, 24 h", figure("orders.count_last_24h", fmtInt(orders.count_last_24h)), []),
      card("revenue", "Revenue, 24 h", figure("orders.revenue_last_24h", fmtMoney(orders.revenue_last_24h)), []),
    ];
    replaceChildren($("cards"), cards);
  }

  // ---- Tables ----------------------------------------------------------------------------------------

  // columns: [{label, cell(row) -> string | Node, numeric?}]
  function table(caption, columns, rows, emptyText) {
    if (!rows.length) return el("p", { className: "muted empty", text: emptyText });
    return el("table", {}, [
      el("caption", { className: "visually-hidden", text: caption }),
      el("thead", {}, [
        el(
          "tr",
          {},
          columns.map((c) => el("th", { scope: "col", className: c.numeric ? "num" : null, text: c.label })),
        ),
      ]),
      el(
        "tbody",
        {},
        rows.map((row) =>
          el(
            "tr",
            {},
            columns.map((c) => {
              const value = c.cell(row);
              const props = { className: c.numeric ? "num" : c.className || null, dataset: { label: c.label } };
              return el("td", props, [
                value instanceof Node ? value : String(value),
              ]);
            }),
          ),
        ),
      ),
    ]);
  }

  // A link-styled button that opens the matching raw error rows.
  function drillButton(content, filter, label) {
    const props = { type: "button", className: "drill", title: "Show error rows for " + label };
    props.onclick = () => openDrilldown(filter, label);
    return el("button", props, [content]);
  }

  function renderEndpoints(summary) {
    const rows = (summary.top_endpoints || []).slice(0, 10);
    replaceChildren($("endpoints"), [
      table(
        "Top 10 endpoints by requests in the last 24 hours",
        [
          {
            label: "Endpoint",
            cell: (r) =>
              drillButton(breakable(r.endpoint), { endpoint: r.endpoint, method: r.method }, r.method + " " + r.endpoint),
            className: "wrap",
          },
          { label: "Method", cell: (r) => r.method || "–" },
          { label: "Requests", cell: (r) => fmtInt(r.requests), numeric: true },
          { label: "Success %", cell: (r) => fmtOne(r.success_rate), numeric: true },
          { label: "Avg ms", cell: (r) => fmtOne(r.avg_response_time_ms), numeric: true },
          { label: "p95 ms", cell: (r) => fmtOne(r.p95_response_time_ms), numeric: true },
        ],
        rows,
        "No requests in the last 24 hours.",
      ),
    ]);
  }

  function renderErrors(summary) {
    const rows = summary.errors || [];
    const total = rows.reduce((sum, r) => sum + Number(r.count || 0), 0);
    replaceChildren($("errors"), [
      table(
        "Error responses in the last 24 hours by HTTP status code",
        [
          {
            label: "Status",
            cell: (r) => drillButton(String(r.status_code), { status_code: r.status_code }, "status " + r.status_code),
          },
          { label: "Kind", cell: (r) => (Number(r.status_code) >= 500 ? "Server error" : "Client error") },
          { label: "Count", cell: (r) => fmtInt(r.count), numeric: true },
          { label: "Share", cell: (r) => (total ? fmtOne((100 * r.count) / total) + " %" : "–"), numeric: true },
        ],
        rows,
        "No error responses in the last 24 hours.",
      ),
    ]);
  }

  // The busiest agents first; the rest one click away, so a long tail does not bury the page.
  function renderAgents(agentsBody) {
    view.agentsBody = agentsBody;
    const all = agentsBody.items || [];
    const rows = view.allAgents ? all : all.slice(0, AGENTS_SHOWN);
    const hidden = Math.max(0, Number(agentsBody.total || all.length) - rows.length);
    const toggle =
      all.length > AGENTS_SHOWN
        ? el("button", {
            type: "button",
            className: "secondary more",
            id: "agents-toggle",
            text: view.allAgents ? "Show the " + AGENTS_SHOWN + " busiest" : "Show all " + fmtInt(all.length) + " agents",
            onclick: () => {
              view.allAgents = !view.allAgents;
              renderAgents(view.agentsBody);
            },
          })
        : null;
    replaceChildren($("agents"), [
      el("p", {
        className: "muted",
        text: hidden
          ? "The " + rows.length + " busiest of " + fmtInt(agentsBody.total) + " agents, by requests."
          : fmtInt(rows.length) + " agent" + (rows.length === 1 ? "" : "s") + ", busiest first.",
      }),
      table(
        "Agents active in the last 24 hours",
        [
          {
            label: "Agent",
            cell: (r) => drillButton(r.agent_id, { agent_id: r.agent_id }, "agent " + r.agent_id),
            className: "wrap agent",
          },
          { label: "Requests", cell: (r) => fmtInt(r.requests), numeric: true },
          { label: "Success %", cell: (r) => fmtOne(r.success_rate), numeric: true },
          { label: "Avg ms", cell: (r) => fmtOne(r.avg_response_time_ms), numeric: true },
          { label: "p95 ms", cell: (r) => fmtOne(r.p95_response_time_ms), numeric: true },
          { label: "4xx", cell: (r) => fmtInt(r.client_errors), numeric: true },
          { label: "5xx", cell: (r) => fmtInt(r.server_errors), numeric: true },
          { label: "Orders", cell: (r) => fmtInt(r.orders), numeric: true },
          { label: "Revenue", cell: (r) => fmtMoney(r.revenue), numeric: true },
          { label: "Last seen", cell: (r) => (r.last_seen ? dateTime(new Date(r.last_seen)) : "–") },
        ],
        rows,
        "No agent has called the API in the last 24 hours.",
      ),
      toggle,
    ]);
  }

  // ---- Chart: stacked hourly requests (successes, client errors, server errors) and a p95 line -------

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
    return 10 * magnitude;
  }

  // Drawn at the container's real pixel width (and redrawn on resize) so labels never stretch.
  function renderChart(points, hours) {
    view.chart = { points: points, hours: hours };
    const W = Math.max(300, Math.round($("chart").clientWidth || 960));
    const H = W < 600 ? 220 : 280;
    const m = W < 600 ? { top: 12, right: 44, bottom: 36, left: 46 } : { top: 14, right: 58, bottom: 40, left: 58 };
    const plotW = W - m.left - m.right;
    const plotH = H - m.top - m.bottom;
    const data = points.map((pt) => {
      const client = Number(pt.client_errors || 0);
      const server = Number(pt.server_errors || 0);
      const requests = Number(pt.requests || 0);
      return {
        at: new Date(pt.bucket_start),
        requests: requests,
        client: client,
        server: server,
        rest: Math.max(0, requests - client - server),
        p95: isNumber(pt.p95_response_time_ms) ? Number(pt.p95_response_time_ms) : null,
      };
    });
    const n = Math.max(1, data.length);
    const yMax = niceMax(Math.max(0, ...data.map((d) => d.requests)));
    const lMax = niceMax(Math.max(0, ...data.map((d) => d.p95 || 0)));
    const band = plotW / n;
    const barW = Math.max(1, band * (n > 48 ? 0.9 : 0.75));
    const x = (i) => m.left + i * band + (band - barW) / 2;
    const y = (v) => m.top + plotH - (v / yMax) * plotH;
    const ly = (v) => m.top + plotH - (v / lMax) * plotH;

    const title = "Requests per hour and p95 response time, last " + (hours === 24 ? "24 hours" : "7 days");
    const summaryText = chartSummary(data, hours);
    const root = svg("svg", {
      viewBox: "0 0 " + W + " " + H,
      role: "img",
      "aria-labelledby": "chart-svg-title chart-svg-desc",
      class: "chart-svg",
      width: W,
      height: H,
    });
    root.appendChild(svg("title", { id: "chart-svg-title" }, [title]));
    root.appendChild(svg("desc", { id: "chart-svg-desc" }, [summaryText]));

    const axes = svg("g", { class: "axes" });
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      axes.appendChild(svg("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v), class: "grid" }));
      axes.appendChild(svg("text", { x: m.left - 6, y: y(v) + 4, class: "tick left" }, [fmtInt(v)]));
      axes.appendChild(svg("text", { x: W - m.right + 6, y: ly((lMax * k) / 4) + 4, class: "tick right" }, [
        fmtInt((lMax * k) / 4),
      ]));
    }
    axes.appendChild(
      svg("text", { x: 14, y: m.top + plotH / 2, class: "axis-label", transform: "rotate(-90 14 " + (m.top + plotH / 2) + ")" }, [
        "requests / hour",
      ]),
    );
    axes.appendChild(
      svg(
        "text",
        { x: W - 12, y: m.top + plotH / 2, class: "axis-label", transform: "rotate(90 " + (W - 12) + " " + (m.top + plotH / 2) + ")" },
        ["p95 ms"],
      ),
    );
    // Hour labels at least ~48 px apart (every 3 h on a laptop, 6 h on a phone); 7 days: local midnights.
    const step = [1, 2, 3, 4, 6, 12].find((s) => s * band >= 48) || 24;
    data.forEach((d, i) => {
      const show = n > 48 ? d.at.getHours() === 0 : d.at.getHours() % step === 0;
      if (!show) return;
      const label = n > 48 ? d.at.toLocaleDateString("en-GB", { weekday: "short", day: "numeric" }) : pad(d.at.getHours()) + ":00";
      axes.appendChild(svg("line", { x1: x(i) + barW / 2, x2: x(i) + barW / 2, y1: m.top + plotH, y2: m.top + plotH + 4, class: "grid" }));
      axes.appendChild(svg("text", { x: x(i) + barW / 2, y: H - m.bottom + 18, class: "tick bottom" }, [label]));
    });
    root.appendChild(axes);

    const bars = svg("g", { class: "bars" });
    data.forEach((d, i) => {
      const group = svg("g", { class: "bar" }, [
        svg("title", {}, [
          dateTime(d.at).slice(0, 16) + ": " + fmtInt(d.requests) + " requests, " + fmtInt(d.client) + " client errors, " +
            fmtInt(d.server) + " server errors, p95 " + (d.p95 === null ? "–" : fmtOne(d.p95) + " ms"),
        ]),
      ]);
      let base = 0;
      for (const [value, cls] of [[d.rest, "seg-ok"], [d.client, "seg-client"], [d.server, "seg-server"]]) {
        if (value > 0) {
          group.appendChild(svg("rect", { x: x(i), width: barW, y: y(base + value), height: Math.max(0.5, y(base) - y(base + value)), class: cls }));
        }
        base += value;
      }
      bars.appendChild(group);
    });
    root.appendChild(bars);

    // The p95 line breaks over hours without requests instead of pretending they were fast.
    let path = "";
    let pen = false;
    data.forEach((d, i) => {
      if (d.p95 === null) {
        pen = false;
        return;
      }
      path += (pen ? "L" : "M") + (x(i) + barW / 2).toFixed(1) + " " + ly(d.p95).toFixed(1);
      pen = true;
    });
    if (path) root.appendChild(svg("path", { d: path, class: "p95-line" }));
    data.forEach((d, i) => {
      if (d.p95 !== null) root.appendChild(svg("circle", { cx: x(i) + barW / 2, cy: ly(d.p95), r: n > 48 ? 1.5 : 3, class: "p95-dot" }));
    });

    const legend = el("ul", { className: "legend" }, [
      legendItem("sw-ok", "Successful requests"),
      legendItem("sw-client", "Client errors (4xx)"),
      legendItem("sw-server", "Server errors (5xx)"),
      legendItem("sw-p95", "p95 response time (right axis)"),
    ]);
    replaceChildren($("chart"), [root, legend]);
    $("chart-summary").textContent = summaryText;
  }

  function legendItem(swatch, text) {
    return el("li", {}, [el("span", { className: "swatch " + swatch, "aria-hidden": "true" }), text]);
  }

  function chartSummary(data, hours) {
    const total = data.reduce((s, d) => s + d.requests, 0);
    const errors = data.reduce((s, d) => s + d.client + d.server, 0);
    const window = hours === 24 ? "last 24 hours" : "last 7 days";
    if (!total) return "No requests in the " + window + ".";
    const peak = data.reduce((best, d) => (d.requests > best.requests ? d : best), data[0]);
    const p95s = data.map((d) => d.p95).filter((v) => v !== null);
    return (
      "In the " + window + ": " + fmtInt(total) + " requests, " + fmtInt(errors) + " errors (" +
      fmtOne((100 * errors) / total) + " %). Busiest hour " + dateTime(peak.at).slice(0, 16) + " with " +
      fmtInt(peak.requests) + " requests." + (p95s.length ? " Highest hourly p95: " + fmtOne(Math.max(...p95s)) + " ms." : "")
    );
  }

  // ---- Drill-down: raw error rows for one status code, endpoint or agent ----------------------------

  const drill = { filter: null, label: "", since: null, cursor: null, next: null, page: 1 };

  function openDrilldown(filter, label) {
    drill.filter = filter;
    drill.label = label;
    drill.cursor = null;
    drill.page = 1;
    drill.since = view.windowStart24h; // the summary's own window, from the server's clock
    $("drilldown-title").textContent = "Error rows, last 24 h: " + label;
    $("drilldown").hidden = false;
    loadDrilldown();
    $("drilldown-close").focus();
  }

  async function loadDrilldown() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(drill.filter)) {
      if (value !== null && value !== undefined) params.set(name, String(value));
    }
    if (drill.since) params.set("since", drill.since);
    params.set("limit", String(DRILLDOWN_PAGE_SIZE));
    if (drill.cursor) params.set("cursor", drill.cursor);
    const status = $("drilldown-status");
    status.textContent = "Loading…";
    $("drilldown-next").disabled = true;
    try {
      const body = await api("/agent/metrics/errors?" + params.toString());
      const rows = body.items || [];
      drill.next = body.next_cursor || null;
      status.textContent =
        rows.length === 0
          ? "No error rows" + (drill.page > 1 ? " on this page." : " kept for this filter (raw rows are kept for the retention period).")
          : "Page " + drill.page + ": " + rows.length + " row" + (rows.length === 1 ? "" : "s") + ", newest first.";
      replaceChildren($("drilldown-rows"), [
        table(
          "Raw error rows for " + drill.label,
          [
            { label: "Time", cell: (r) => dateTime(new Date(r.timestamp)) },
            { label: "Status", cell: (r) => String(r.status_code ?? "–"), numeric: true },
            { label: "Agent", cell: (r) => r.agent_id ?? "–", className: "wrap" },
            {
              label: "Request",
              cell: (r) => breakable((r.method ? r.method + " " : "") + (r.endpoint ?? "–")),
              className: "wrap",
            },
            { label: "Merchant", cell: (r) => r.merchant_id ?? "–", className: "wrap" },
            { label: "Latency ms", cell: (r) => fmtInt(r.response_time_ms), numeric: true },
            { label: "Error", cell: (r) => r.error_message ?? "–", className: "wrap message" },
            { label: "Request id", cell: (r) => r.request_id ?? "–", className: "wrap mono" },
          ],
          rows,
          "",
        ),
      ]);
      $("drilldown-next").disabled = !drill.next;
      $("drilldown-first").disabled = drill.page === 1;
    } catch (error) {
      if (!(error instanceof SessionEnded)) status.textContent = "Failed to load error rows: " + error.message;
    }
  }

  // ---- Loading, health, freshness, refresh -----------------------------------------------------------

  const view = {
    hours: 24, // the chart's window
    lastGood: null, // when the figures on screen were loaded
    asOf: null, // summary.as_of of those figures
    windowStart24h: null, // summary.window_start_24h: where the error counts on screen begin
    timer: null,
    loading: false,
    again: false,
    chart: null,
    agentsBody: null,
    allAgents: false,
  };

  // Health: "ok", "degraded" (the aggregator is behind) or "down" (database unreachable, HTTP 503).
  function showHealth(health) {
    const body = health.body || {};
    let level = "ok";
    let words = "Healthy";
    if (health.httpStatus === 0) {
      level = "alert";
      words = "Service unreachable";
    } else if (!health.ok || body.status === "down") {
      level = "alert";
      words = body.database === "unreachable" ? "Down: database unreachable" : "Down: HTTP " + health.httpStatus;
    } else if (body.status !== "ok") {
      level = "warn";
      words = !body.last_run_at
        ? "Degraded: the aggregator has not run yet"
        : "Degraded: rollups " + Math.round(Number(body.lag_seconds || 0)) + " s behind";
    }
    $("health").className = "health state-" + level;
    $("health-text").textContent = words;
    if (body.last_run_at) $("health").title = "Last aggregator run: " + dateTime(new Date(body.last_run_at));
  }

  function tickFreshness() {
    const node = $("freshness");
    if (!view.lastGood) return;
    if (!view.asOf) {
      node.textContent = "No data rolled up yet";
      return;
    }
    node.textContent = "data as of " + clock(view.asOf) + ", " + ago(view.asOf);
    node.title = "Metrics include rows rolled up until " + view.asOf.toISOString();
  }

  function showFailure(reason) {
    const banner = $("load-error");
    const since = view.lastGood ? " Showing figures from " + clock(view.lastGood) + " (stale)." : "";
    banner.textContent = "Failed to load metrics: " + reason + "." + since;
    banner.hidden = false;
    if (view.lastGood) $("content").classList.add("stale");
  }

  function clearFailure() {
    $("load-error").hidden = true;
    $("content").classList.remove("stale");
  }

  async function loadAll() {
    const healthPromise = fetchHealth().then(showHealth);
    try {
      const [summary, timeline, agents] = await Promise.all([
        api("/agent/metrics/summary"),
        api("/agent/metrics/timeline?hours=" + view.hours),
        api("/agent/metrics/agents?hours=24&limit=" + AGENTS_FETCHED),
      ]);
      renderCards(summary);
      renderChart(timelinePoints(timeline), view.hours);
      renderEndpoints(summary);
      renderErrors(summary);
      renderAgents(agents);
      view.asOf = summary.as_of ? new Date(summary.as_of) : null;
      view.windowStart24h = summary.window_start_24h;
      view.lastGood = new Date();
      tickFreshness();
      clearFailure();
      // A load counter on <body>: lets a test (or a curious operator) see that the page is live.
      document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
    } catch (error) {
      if (!(error instanceof SessionEnded)) showFailure(error.message || String(error));
    }
    await healthPromise;
  }

  function timelinePoints(body) {
    return body.points || [];
  }

  function schedule(seconds) {
    clearTimeout(view.timer);
    view.timer = null;
    if (!document.hidden) view.timer = setTimeout(refresh, seconds * 1000);
  }

  async function refresh() {
    if (view.loading) {
      view.again = true; // a click during a load asks for one more, not a parallel one
      return;
    }
    view.loading = true;
    clearTimeout(view.timer);
    $("refresh-button").disabled = true;
    try {
      await loadAll();
    } finally {
      view.loading = false;
      $("refresh-button").disabled = false;
      if (view.again) {
        view.again = false;
        refresh();
      } else {
        schedule(refreshSeconds());
      }
    }
  }

  function refreshSeconds() {
    const value = Number(document.body.dataset.refreshSeconds);
    return Number.isFinite(value) && value >= 1 ? value : 30;
  }

  async function setHours(hours) {
    view.hours = hours;
    for (const button of document.querySelectorAll("button.range"))
      button.setAttribute("aria-pressed", String(Number(button.dataset.hours) === hours));
    try {
      renderChart(timelinePoints(await api("/agent/metrics/timeline?hours=" + hours)), hours);
    } catch (error) {
      if (!(error instanceof SessionEnded)) showFailure(error.message || String(error));
    }
  }

  function initMonitoring() {
    if (!session.token()) {
      backToSignin(null);
      return;
    }
    if (session.expired()) {
      backToSignin(EXPIRED_MESSAGE);
      return;
    }
    $("refresh-button").addEventListener("click", refresh);
    $("signout-button").addEventListener("click", () => backToSignin(SIGNED_OUT_MESSAGE));
    for (const button of document.querySelectorAll("button.range"))
      button.addEventListener("click", () => setHours(Number(button.dataset.hours)));
    $("drilldown-close").addEventListener("click", () => {
      $("drilldown").hidden = true;
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") $("drilldown").hidden = true;
    });
    $("drilldown-next").addEventListener("click", () => {
      if (!drill.next) return;
      drill.cursor = drill.next;
      drill.page += 1;
      loadDrilldown();
    });
    $("drilldown-first").addEventListener("click", () => {
      drill.cursor = null;
      drill.page = 1;
      loadDrilldown();
    });
    // Hidden tab: no polling. Visible again: refresh at once, then on the usual interval.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) {
        clearTimeout(view.timer);
        view.timer = null;
      } else {
        refresh();
      }
    });
    setInterval(tickFreshness, 1000);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => view.chart && renderChart(view.chart.points, view.chart.hours), 150);
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    if (page === "signin") initSignin();
    else if (page === "monitoring") initMonitoring();
  });
})();
