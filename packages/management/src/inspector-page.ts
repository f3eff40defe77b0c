/**
 * The browser inspector: one HTML page, its stylesheet and its script, shipped inside the
 * package as strings (no CDN, no build step, nothing fetched from anywhere but the
 * endpoint). The script opens `/ws` on the same origin, keeps the last snapshot and
 * applies updates to it (see inspector-feed.ts), and redraws at most once per animation
 * frame. Everything a peer or an application controls (actor names, dead-letter details)
 * is put into the page as text, never as HTML.
 */

export const INSPECTOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald inspector</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/inspector.css">
</head>
<body>
<header>
  <h1>Herald inspector <span id="runtime-name"></span></h1>
  <div id="summary" data-testid="summary"></div>
  <div id="link" data-testid="link-state" class="link connecting">connecting</div>
</header>
<main>
  <section id="actors-section">
    <h2>Actors <span class="count" id="actor-count"></span></h2>
    <ul id="actor-tree" class="tree" data-testid="actor-tree"></ul>
  </section>
  <section id="network-section">
    <h2>Connections <span class="count" id="connection-count"></span></h2>
    <svg id="network" data-testid="network" viewBox="0 0 480 260" role="img" aria-label="connections between processes"></svg>
    <table id="connections" data-testid="connections">
      <thead><tr><th>peer</th><th>role</th><th>identity</th><th>in (bytes / msgs)</th><th>out (bytes / msgs)</th><th>queued</th><th>state</th></tr></thead>
      <tbody></tbody>
    </table>
    <h2>Groups</h2>
    <ul id="groups" data-testid="groups"></ul>
  </section>
  <section id="machines-section">
    <h2>State machines</h2>
    <ul id="machines" data-testid="machines"></ul>
    <h3>Recent xstate events</h3>
    <ol id="xstate" class="log" data-testid="xstate-events"></ol>
  </section>
  <section id="dead-letters-section">
    <h2>Dead letters <span class="count" id="dead-letter-count"></span></h2>
    <div id="dead-letter-reasons"></div>
    <ol id="dead-letters" class="log" data-testid="dead-letters"></ol>
  </section>
</main>
<script src="/inspector.js"></script>
</body>
</html>
`;

export const INSPECTOR_CSS = `
:root { --bg: #0f1419; --panel: #171d24; --line: #2a333d; --text: #d7dde3; --dim: #8a96a3;
  --accent: #4fb3ff; --good: #5fd38d; --warn: #f0b84e; --bad: #ff6b6b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 13px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; gap: 16px; align-items: center; padding: 10px 16px;
  border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 16px; margin: 0; font-weight: 600; }
h1 span { color: var(--accent); }
h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); }
h3 { font-size: 12px; margin: 12px 0 6px; color: var(--dim); }
#summary { display: flex; gap: 14px; flex: 1; color: var(--dim); }
#summary b { color: var(--text); font-weight: 600; }
.link { padding: 2px 8px; border-radius: 10px; font-size: 12px; }
.link.live { background: #17361f; color: var(--good); }
.link.connecting, .link.lost { background: #3a2a12; color: var(--warn); }
main { display: grid; grid-template-columns: 1.1fr 1.2fr; gap: 12px; padding: 12px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  min-height: 120px; overflow: auto; max-height: 72vh; }
.count { color: var(--accent); }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 16px; }
.tree { padding-left: 0; }
.tree li { margin: 2px 0; white-space: nowrap; }
.tree li::before { content: "\\25B8 "; color: var(--line); }
.name { font-weight: 600; }
.addr, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--dim); font-size: 12px; }
.badge { display: inline-block; padding: 0 6px; margin-left: 4px; border-radius: 8px; font-size: 11px;
  background: #22303d; color: var(--dim); }
.badge.machine { background: #2b2447; color: #b9a7ff; }
.badge.handler { background: #1f3340; color: #8fd3ff; }
.badge.state { background: #173a2a; color: var(--good); }
.badge.rate { background: #3a3212; color: var(--warn); }
.badge.full { background: #4a1f1f; color: var(--bad); }
table { width: 100%; border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; }
svg { width: 100%; height: 220px; background: #121820; border-radius: 4px; }
svg text { fill: var(--text); font-size: 11px; }
svg .self { fill: #1c4a6e; stroke: var(--accent); }
svg .peer { fill: #243240; stroke: var(--dim); }
svg .peer.congested { stroke: var(--bad); }
svg line { stroke: var(--accent); stroke-opacity: .7; }
.log { margin: 0; padding-left: 18px; font-size: 12px; }
.log li { margin: 2px 0; }
.reason { color: var(--bad); }
#dead-letter-reasons .badge { margin: 0 4px 6px 0; }
.empty { color: var(--dim); font-style: italic; }
`;

export const INSPECTOR_SCRIPT = String.raw`'use strict';
(function () {
  var model = null;
  var previousBytes = {};
  var byteRates = {};
  var lastAt = 0;
  var drawPending = false;
  var retryMs = 500;

  function h(tag, attrs) {
    var el = document.createElementNS(tag === 'svg' || attrs && attrs.svg ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
    if (attrs) for (var k in attrs) if (k !== 'svg' && attrs[k] !== undefined) {
      if (k === 'text') el.textContent = String(attrs[k]); else el.setAttribute(k, String(attrs[k]));
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function $(id) { return document.getElementById(id); }
  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  function stateText(v) { return typeof v === 'string' ? v : JSON.stringify(v); }
  function time(ms) { var d = new Date(ms); return d.toTimeString().slice(0, 8); }

  function apply(msg) {
    if (msg.type === 'snapshot') {
      var actors = {};
      msg.actors.forEach(function (a) { actors[a.address] = a; });
      model = { actors: actors, deadLetters: msg.deadLetters.slice(), xstate: msg.xstate.slice() };
    } else if (msg.type === 'update' && model) {
      msg.actors.removed.forEach(function (a) { delete model.actors[a]; });
      msg.actors.added.concat(msg.actors.changed).forEach(function (a) { model.actors[a.address] = a; });
      model.deadLetters = model.deadLetters.concat(msg.deadLetters).slice(-200);
      model.xstate = model.xstate.concat(msg.xstate).slice(-200);
    } else return;
    ['status', 'connections', 'groups', 'rates', 'messagesPerSecond', 'deadLettersBy'].forEach(function (k) { model[k] = msg[k]; });
    var seconds = lastAt ? Math.max(0.001, (msg.at - lastAt) / 1000) : 0;
    var next = {};
    byteRates = {};
    msg.connections.forEach(function (c) {
      var total = c.bytesIn + c.bytesOut;
      var before = previousBytes[c.address];
      byteRates[c.address] = seconds && before !== undefined ? (total - before) / seconds : 0;
      next[c.address] = total;
    });
    previousBytes = next;
    lastAt = msg.at;
    if (!drawPending) { drawPending = true; requestAnimationFrame(draw); }
  }

  function draw() {
    drawPending = false;
    if (!model) return;
    var s = model.status;
    $('runtime-name').textContent = s.name;
    var summary = clear($('summary'));
    [['pid', s.pid], ['actors', s.actors], ['connections', s.connections], ['msg/s', model.messagesPerSecond],
     ['dead letters', s.deadLetters], ['log', s.logLevel], ['rss', bytes(s.rssBytes)]].forEach(function (p) {
      summary.appendChild(h('span', null, document.createTextNode(p[0] + ' '), h('b', { text: p[1] })));
    });
    drawActors(); drawConnections(); drawGroups(); drawMachines(); drawDeadLetters();
  }

  function drawActors() {
    var list = Object.keys(model.actors).map(function (k) { return model.actors[k]; });
    $('actor-count').textContent = String(list.length);
    var children = {};
    var roots = [];
    list.forEach(function (a) {
      if (a.parent !== null && model.actors[a.parent]) (children[a.parent] = children[a.parent] || []).push(a);
      else roots.push(a);
    });
    function node(a) {
      var li = h('li', { 'data-address': a.address, 'data-name': a.name },
        h('span', { 'class': 'name', text: a.name }), document.createTextNode(' '),
        h('span', { 'class': 'addr', text: a.address }),
        h('span', { 'class': 'badge ' + a.kind, text: a.kind }));
      if (a.state !== undefined) li.appendChild(h('span', { 'class': 'badge state', 'data-testid': 'machine-state', text: stateText(a.state) }));
      if (a.mailbox > 0) li.appendChild(h('span', { 'class': 'badge' + (a.mailbox * 2 > a.capacity ? ' full' : ''), text: 'mailbox ' + a.mailbox + '/' + a.capacity }));
      var rate = model.rates[a.address];
      if (rate) li.appendChild(h('span', { 'class': 'badge rate', text: rate + ' msg/s' }));
      var kids = children[a.address];
      if (kids) { var ul = h('ul'); kids.forEach(function (k) { ul.appendChild(node(k)); }); li.appendChild(ul); }
      return li;
    }
    var tree = clear($('actor-tree'));
    roots.forEach(function (a) { tree.appendChild(node(a)); });
    if (!roots.length) tree.appendChild(h('li', { 'class': 'empty', text: 'no actors' }));
  }

  function drawConnections() {
    var cs = model.connections;
    $('connection-count').textContent = String(cs.length);
    var body = clear($('connections').tBodies[0]);
    cs.forEach(function (c) {
      body.appendChild(h('tr', { 'data-address': c.address },
        h('td', { 'class': 'mono', text: c.host + ':' + c.port }),
        h('td', { text: c.role }),
        h('td', { 'class': 'mono', text: c.identity ? c.identity.slice(0, 12) + '\u2026' : (c.encrypted ? 'anonymous' : 'clear') }),
        h('td', { text: bytes(c.bytesIn) + ' / ' + c.messagesIn }),
        h('td', { text: bytes(c.bytesOut) + ' / ' + c.messagesOut }),
        h('td', { text: bytes(c.queuedBytes) + (c.congested ? ' congested' : '') }),
        h('td', { text: c.state })));
    });
    if (!cs.length) body.appendChild(h('tr', null, h('td', { colspan: 7, 'class': 'empty', text: 'no connections' })));
    var svg = clear($('network'));
    var cx = 240, cy = 110;
    cs.forEach(function (c, i) {
      var angle = (i / Math.max(1, cs.length)) * 2 * Math.PI;
      var x = cx + 170 * Math.cos(angle), y = cy + 70 * Math.sin(angle);
      var rate = byteRates[c.address] || 0;
      svg.appendChild(h('line', { svg: 1, x1: cx, y1: cy, x2: x, y2: y, 'stroke-width': 1 + Math.min(6, Math.log10(1 + rate)) }));
      svg.appendChild(h('circle', { svg: 1, cx: x, cy: y, r: 16, 'class': 'peer' + (c.congested ? ' congested' : ''), 'data-testid': 'peer-node' }));
      svg.appendChild(h('text', { svg: 1, x: x, y: y + 30, 'text-anchor': 'middle', text: c.host + ':' + c.port }));
      svg.appendChild(h('text', { svg: 1, x: x, y: y + 43, 'text-anchor': 'middle', text: (c.role === 'connector' ? '\u2192 ' : '\u2190 ') + bytes(Math.round(rate)) + '/s' }));
    });
    svg.appendChild(h('circle', { svg: 1, cx: cx, cy: cy, r: 26, 'class': 'self' }));
    svg.appendChild(h('text', { svg: 1, x: cx, y: cy + 4, 'text-anchor': 'middle', text: model.status.name }));
  }

  function drawGroups() {
    var ul = clear($('groups'));
    model.groups.forEach(function (g) {
      var li = h('li', null, h('span', { 'class': 'addr', text: g.address }),
        h('span', { 'class': 'badge' + (g.ready ? ' state' : ' full'), text: g.ready ? 'ready' : 'not ready' }));
      g.members.forEach(function (m) { li.appendChild(h('span', { 'class': 'badge', text: m.name + ': ' + m.state })); });
      ul.appendChild(li);
    });
    if (!model.groups.length) ul.appendChild(h('li', { 'class': 'empty', text: 'no groups' }));
  }

  function drawMachines() {
    var ul = clear($('machines'));
    Object.keys(model.actors).forEach(function (k) {
      var a = model.actors[k];
      if (a.kind !== 'machine') return;
      ul.appendChild(h('li', { 'data-address': a.address }, h('span', { 'class': 'name', text: a.name }), document.createTextNode(' '),
        h('span', { 'class': 'addr', text: a.address }), h('span', { 'class': 'badge state', text: a.state === undefined ? '?' : stateText(a.state) })));
    });
    if (!ul.firstChild) ul.appendChild(h('li', { 'class': 'empty', text: 'no machine actors' }));
    var ol = clear($('xstate'));
    model.xstate.slice(-30).reverse().forEach(function (e) {
      ol.appendChild(h('li', null, h('span', { 'class': 'mono', text: time(e.at) + ' ' + e.actor + ' ' }),
        document.createTextNode(e.type + (e.value === undefined ? '' : ' ' + stateText(e.value)))));
    });
  }

  function drawDeadLetters() {
    $('dead-letter-count').textContent = String(model.status.deadLetters);
    var reasons = clear($('dead-letter-reasons'));
    Object.keys(model.deadLettersBy).forEach(function (r) { reasons.appendChild(h('span', { 'class': 'badge', text: r + ' ' + model.deadLettersBy[r] })); });
    var ol = clear($('dead-letters'));
    model.deadLetters.slice(-50).reverse().forEach(function (d) {
      ol.appendChild(h('li', null, h('span', { 'class': 'mono', text: time(d.at) + ' ' }), h('b', { text: d.messageType }),
        document.createTextNode(' to ' + d.to + ' from ' + d.from + ' '), h('span', { 'class': 'reason', text: d.reason }),
        document.createTextNode(d.detail ? ' (' + d.detail + ')' : '')));
    });
    if (!ol.firstChild) ol.appendChild(h('li', { 'class': 'empty', text: 'none' }));
  }

  function connect() {
    var link = $('link');
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = function () { link.textContent = 'live'; link.className = 'link live'; retryMs = 500; };
    ws.onmessage = function (e) { apply(JSON.parse(e.data)); };
    ws.onclose = function () {
      link.textContent = 'reconnecting'; link.className = 'link lost';
      setTimeout(connect, retryMs); retryMs = Math.min(10000, retryMs * 2);
    };
  }
  // The token is in the cookie now; keep it out of the address bar and the history.
  if (location.search.indexOf('token=') >= 0) history.replaceState(null, '', location.pathname);
  connect();
})();
`;
