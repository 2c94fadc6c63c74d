// The live status page. Plain script, no framework, no build step: the
// server-rendered table (which works without JavaScript) is replaced by a
// table kept up to date from ui/api/status; actions are POSTs to
// ui/api/action carrying the X-Supervisor-UI header (which another site's
// page cannot send). No inline script or style anywhere: the page's CSP
// forbids them.
'use strict';
(function () {
  var POLL_MS = 2000, BUSY_POLL_MS = 500, LOG_POLL_MS = 1000, LOG_KEEP = 1 << 20;
  var STATES = { STOPPED: 0, STARTING: 10, RUNNING: 20, BACKOFF: 30, STOPPING: 40, EXITED: 100, FATAL: 200, UNKNOWN: 1000 };
  var rows = {};      // namespec -> {tr, cells, info, busy}
  var groups = {};    // group name -> {tbody, head, names}
  var collapsed = {};
  var sortKey = 'name', sortDir = 1, filterText = '';
  var pollTimer = null, busyCount = 0, polls = 0, healthShown = false;
  var table, tbodyHost, msgBox, infoBox, logView;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'class') e.className = attrs[k];
      else if (k === 'colSpan') e.colSpan = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function button(label, action, extra) {
    var b = el('button', { type: 'button', 'data-action': action, class: 'btn' }, label);
    if (extra) for (var k in extra) b.setAttribute(k, extra[k]);
    return b;
  }
  function namespec(p) { return p.group === p.name ? p.name : p.group + ':' + p.name; }
  function hms(secs) {
    if (!(secs >= 0)) return '';
    var d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24, m = Math.floor(secs / 60) % 60, s = Math.floor(secs % 60);
    var t = h + ':' + (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
    return d ? d + (d === 1 ? ' day, ' : ' days, ') + t : t;
  }
  function stateClass(name) {
    return name === 'RUNNING' ? 'running' : (name === 'FATAL' || name === 'BACKOFF') ? 'error' : (name === 'STARTING' || name === 'STOPPING') ? 'busy' : 'nominal';
  }

  // ---- messages
  function say(text, ok) {
    msgBox.textContent = text;
    msgBox.className = 'msg ' + (ok === false ? 'bad' : 'good');
    msgBox.hidden = !text;
  }

  // ---- requests
  function getJSON(url) {
    return fetch(url, { cache: 'no-store', credentials: 'same-origin' }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status)); return j; },
        function () { throw new Error('HTTP ' + r.status); });
    });
  }
  function post(fields) {
    return fetch('ui/api/action', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Supervisor-UI': '1' },
      body: new URLSearchParams(fields).toString()
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: 'HTTP ' + r.status }; });
    }, function (e) { return { ok: false, message: 'Request failed: ' + e.message }; });
  }

  // ---- the table
  function build() {
    var legacy = document.getElementById('legacy');
    var old = document.getElementById('message');
    var app = el('main', { id: 'app' });
    infoBox = el('p', { id: 'svinfo', class: 'svinfo', 'aria-live': 'polite' }, 'Loading…');
    msgBox = el('div', { id: 'msg', class: 'msg', role: 'status', 'aria-live': 'polite' });
    msgBox.hidden = true;
    if (old && old.textContent) say(old.textContent, !/^ERROR|unexpected|No such/.test(old.textContent));
    var bar = el('div', { class: 'toolbar' });
    var filter = el('input', { id: 'filter', type: 'search', placeholder: 'Filter by name  ( / )', 'aria-label': 'Filter by name' });
    filter.addEventListener('input', function () { filterText = filter.value.trim().toLowerCase(); applyFilter(); });
    var sort = el('select', { id: 'sort', 'aria-label': 'Sort by' });
    [['name', 'Sort: name'], ['state', 'Sort: state'], ['uptime', 'Sort: uptime'], ['pid', 'Sort: pid']].forEach(function (o) {
      sort.appendChild(el('option', { value: o[0] }, o[1]));
    });
    sort.addEventListener('change', function () { sortKey = sort.value; resort(); });
    bar.appendChild(filter); bar.appendChild(sort);
    [['Start All', 'startall'], ['Restart All', 'restartall'], ['Stop All', 'stopall'], ['Reread', 'reread'], ['Update', 'update'], ['Main log', 'mainlog']].forEach(function (a) {
      var b = button(a[0], a[1], { id: a[1] });
      bar.appendChild(b);
    });
    bar.addEventListener('click', onToolbar);
    table = el('table', { id: 'procs', class: 'procs' });
    var head = el('thead'), tr = el('tr');
    ['', 'State', 'Name', 'Description', 'PID', 'Uptime', 'Exit', 'Health', 'Actions'].forEach(function (h, i) {
      var th = el('th', { scope: 'col', class: 'c' + i }, h);
      tr.appendChild(th);
    });
    head.appendChild(tr); table.appendChild(head);
    table.addEventListener('click', onTable);
    tbodyHost = table;
    app.appendChild(infoBox); app.appendChild(msgBox); app.appendChild(bar);
    var wrap = el('div', { class: 'tablewrap' }); wrap.appendChild(table); app.appendChild(wrap);
    app.appendChild(buildLog());
    if (legacy) legacy.parentNode.replaceChild(app, legacy); else document.body.appendChild(app);
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && document.activeElement.tagName !== 'INPUT') { e.preventDefault(); filter.focus(); }
      else if (e.key === 'Escape' && !logView.box.hidden) closeLog();
    });
  }

  function groupOf(name) {
    var g = groups[name];
    if (g) return g;
    var tbody = el('tbody', { class: 'group', 'data-group': name });
    var head = el('tr', { class: 'grouprow', 'data-group': name });
    var toggle = el('button', { type: 'button', class: 'toggle', 'data-action': 'toggle', 'aria-expanded': 'true', title: 'Collapse or expand the group' }, '▾');
    var td0 = el('td', { class: 'c0' }); td0.appendChild(toggle);
    var summary = el('td', { class: 'summary', colSpan: 7 });
    var acts = el('td', { class: 'acts' });
    acts.appendChild(button('Start', 'startgroup')); acts.appendChild(button('Stop', 'stopgroup')); acts.appendChild(button('Restart', 'restartgroup'));
    head.appendChild(td0); head.appendChild(summary); head.appendChild(acts);
    tbody.appendChild(head);
    g = groups[name] = { tbody: tbody, head: head, summary: summary, names: [] };
    if (collapsed[name]) setCollapsed(g, true);
    return g;
  }
  function setCollapsed(g, yes) {
    g.tbody.classList.toggle('collapsed', yes);
    var t = g.head.querySelector('.toggle');
    t.textContent = yes ? '▸' : '▾';
    t.setAttribute('aria-expanded', String(!yes));
  }

  function makeRow(ns) {
    var tr = el('tr', { class: 'proc', 'data-name': ns });
    var c = {};
    ['c0', 'state', 'name', 'desc', 'pid', 'uptime', 'exit', 'health', 'acts'].forEach(function (k, i) {
      c[k] = el('td', { class: k + ' c' + i }); tr.appendChild(c[k]);
    });
    c.badge = el('span', { class: 'badge' }); c.state.appendChild(c.badge);
    c.link = el('button', { type: 'button', class: 'link', 'data-action': 'log', title: 'Show the log' }, ns);
    c.name.appendChild(c.link);
    c.descText = el('span'); c.err = el('span', { class: 'err' }); c.note = el('div', { class: 'err note' });
    c.desc.appendChild(c.descText); c.desc.appendChild(c.err); c.desc.appendChild(c.note);
    return { tr: tr, cells: c, info: null, busy: null, key: '' };
  }

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  function renderActions(r) {
    var s = r.info.statename, c = r.cells, want;
    if (r.busy) want = 'busy';
    else want = s === 'RUNNING' ? 'run' : (s === 'STOPPED' || s === 'EXITED' || s === 'FATAL') ? 'stopped' : (s === 'STARTING' || s === 'BACKOFF') ? 'starting' : 'other';
    if (c.acts.dataset.mode === want) return;
    c.acts.dataset.mode = want;
    c.acts.textContent = '';
    if (want === 'busy') { c.acts.appendChild(el('span', { class: 'progress' }, r.busy.label)); return; }
    if (want === 'run') { c.acts.appendChild(button('Stop', 'stop')); c.acts.appendChild(button('Restart', 'restart')); }
    if (want === 'stopped') c.acts.appendChild(button('Start', 'start'));
    if (want === 'starting') c.acts.appendChild(button('Stop', 'stop'));
    if (want === 'run' || want === 'starting') c.acts.appendChild(button('Signal', 'signal'));
    c.acts.appendChild(button('Log', 'log'));
    c.acts.appendChild(button('Clear log', 'clearlog'));
  }

  function updateRow(r, p, now) {
    var c = r.cells, running = p.statename === 'RUNNING';
    r.info = p;
    setText(c.badge, p.statename.toLowerCase());
    // Writes only on change: at 500 rows every needless write costs layout.
    if (r.tr.dataset.state !== p.statename) {
      c.badge.className = 'badge ' + stateClass(p.statename);
      r.tr.dataset.state = p.statename;
    }
    setText(c.descText, p.description || '');
    // A FATAL process's description is often its spawn error already.
    setText(c.err, p.spawnerr && (p.description || '').indexOf(p.spawnerr) < 0 ? ' ' + p.spawnerr : '');
    setText(c.pid, p.pid ? String(p.pid) : '');
    setText(c.uptime, running && p.start ? hms(now - p.start) : '');
    // An exit status means something only for a process that exited by itself.
    setText(c.exit, /^(EXITED|BACKOFF|FATAL)$/.test(p.statename) && p.stop ? String(p.exitstatus) : '');
    if (p.health !== undefined) {
      healthShown = true;
      var h = (p.health || 'none').toLowerCase();
      setText(c.health, p.health ? h : '-');
      if (c.health.className !== 'health c7 h-' + h) c.health.className = 'health c7 h-' + h;
    }
    renderActions(r);
  }

  function sortValue(r) {
    var p = r.info;
    if (sortKey === 'state') return [STATES[p.statename] === undefined ? 999 : -STATES[p.statename], p.name];
    if (sortKey === 'uptime') return [p.statename === 'RUNNING' ? p.start : 1e12, p.name];
    if (sortKey === 'pid') return [p.pid || 1e12, p.name];
    return [0, p.name];
  }
  function cmp(a, b) {
    var x = sortValue(rows[a]), y = sortValue(rows[b]);
    for (var i = 0; i < x.length; i++) { if (x[i] < y[i]) return -sortDir; if (x[i] > y[i]) return sortDir; }
    return 0;
  }
  function resort() {
    Object.keys(groups).sort().forEach(function (gname) {
      var g = groups[gname];
      g.names.sort(cmp);
      g.names.forEach(function (ns) { g.tbody.appendChild(rows[ns].tr); });
      tbodyHost.appendChild(g.tbody);
    });
  }

  function applyFilter() {
    Object.keys(groups).forEach(function (gname) {
      var g = groups[gname], any = false;
      g.names.forEach(function (ns) {
        var show = !filterText || ns.toLowerCase().indexOf(filterText) >= 0;
        if (rows[ns].tr.hidden === show) rows[ns].tr.hidden = !show;
        any = any || show;
      });
      g.tbody.hidden = !any;
    });
  }

  function render(data) {
    var sv = data.supervisor, now = sv.now, seen = {}, changed = false;
    var bits = [sv.state, 'Supervisor ' + sv.version, 'pid ' + sv.pid];
    if (sv.started) bits.push('up ' + hms(now - sv.started));
    if (sv.hostname) bits.push('host ' + sv.hostname);
    if (sv.identification) bits.push(sv.identification);
    setText(infoBox, bits.join(' · '));
    infoBox.className = 'svinfo' + (sv.state === 'RUNNING' ? '' : ' bad');
    // A read-only login sees no buttons that would only be refused.
    document.body.classList.toggle('ro', !!sv.readonly);
    data.processes.forEach(function (p) {
      var ns = namespec(p); seen[ns] = true;
      var r = rows[ns];
      if (!r) {
        r = rows[ns] = makeRow(ns);
        var g = groupOf(p.group);
        g.names.push(ns); changed = true;
      }
      var before = r.info ? sortValue(r).join() : '';
      updateRow(r, p, now);
      if (sortKey !== 'name' && before !== sortValue(r).join()) changed = true;
    });
    Object.keys(rows).forEach(function (ns) {
      if (seen[ns]) return;
      var r = rows[ns], g = groups[r.info.group];
      r.tr.remove(); delete rows[ns];
      g.names.splice(g.names.indexOf(ns), 1);
      if (!g.names.length) { g.tbody.remove(); delete groups[r.info.group]; }
    });
    Object.keys(groups).forEach(function (gname) {
      var g = groups[gname], counts = {};
      var plain = g.names.length === 1 && g.names[0] === gname;
      g.head.hidden = plain;
      if (g.summary.colSpan !== (healthShown ? 7 : 6)) g.summary.colSpan = healthShown ? 7 : 6;
      g.names.forEach(function (ns) { var s = rows[ns].info.statename.toLowerCase(); counts[s] = (counts[s] || 0) + 1; });
      setText(g.summary, gname + ' — ' + Object.keys(counts).sort().map(function (s) { return counts[s] + ' ' + s; }).join(', '));
    });
    table.classList.toggle('nohealth', !healthShown);
    if (changed) { resort(); applyFilter(); }
    if (!data.processes.length) say('No programs to manage', true);
  }

  function poll(first) {
    clearTimeout(pollTimer);
    (first || getJSON('ui/api/status')).then(function (data) {
      var t0 = performance.now();
      render(data);
      document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
      polls++;
      document.body.dataset.polls = String(polls);
      // Time to interactive: from navigation start to the first full table.
      if (polls === 1) document.body.dataset.ready = String(Math.round(performance.now()));
      document.body.classList.remove('offline');
    }, function (e) {
      document.body.classList.add('offline');
      setText(infoBox, 'Cannot reach supervisord: ' + e.message);
      infoBox.className = 'svinfo bad';
    }).then(function () {
      pollTimer = setTimeout(poll, busyCount ? BUSY_POLL_MS : POLL_MS);
    });
  }

  // ---- actions
  function run(fields, r, label) {
    var started = Date.now(), tick = null;
    busyCount++;
    if (r) {
      r.busy = { label: label + '…' };
      renderActions(r);
      tick = setInterval(function () {
        r.busy.label = label + '… ' + Math.round((Date.now() - started) / 1000) + 's';
        r.cells.acts.dataset.mode = ''; renderActions(r);
      }, 500);
    }
    setTimeout(poll, BUSY_POLL_MS);
    return post(fields).then(function (res) {
      busyCount--;
      if (tick) clearInterval(tick);
      if (r) { r.busy = null; r.cells.acts.dataset.mode = ''; renderActions(r); setText(r.cells.note, res.ok ? '' : res.message); }
      say(res.message, res.ok);
      poll();
      return res;
    });
  }

  var LABELS = { start: 'Starting', stop: 'Stopping', restart: 'Restarting', clearlog: 'Clearing', signal: 'Signalling' };
  function onTable(e) {
    var b = e.target.closest('button');
    if (!b) return;
    var action = b.dataset.action, tr = b.closest('tr');
    if (tr.classList.contains('grouprow')) {
      var gname = tr.dataset.group, g = groups[gname];
      if (action === 'toggle') { collapsed[gname] = !collapsed[gname]; setCollapsed(g, collapsed[gname]); return; }
      g.names.forEach(function (ns) { var r = rows[ns]; r.busy = { label: 'Working…' }; renderActions(r); });
      run({ action: action, name: gname }).then(function () {
        g.names.forEach(function (ns) { var r = rows[ns]; if (r) { r.busy = null; renderActions(r); } });
      });
      return;
    }
    var ns = tr.dataset.name, r = rows[ns];
    if (action === 'log') return openLog(ns);
    if (action === 'signal') {
      var sig = window.prompt('Signal to send to ' + ns + ' (for example HUP, USR1, TERM):', 'HUP');
      if (!sig) return;
      return run({ action: 'signal', name: ns, signal: sig.trim().toUpperCase() }, r, LABELS.signal);
    }
    run({ action: action, name: ns }, r, LABELS[action] || 'Working');
  }

  function onToolbar(e) {
    var b = e.target.closest('button');
    if (!b) return;
    var action = b.dataset.action;
    if (action === 'mainlog') return openLog('');
    if ((action === 'stopall' || action === 'restartall') &&
        !window.confirm(action === 'stopall' ? 'Stop all processes?' : 'Restart all processes?')) return;
    b.disabled = true;
    run({ action: action }).then(function () { b.disabled = false; });
  }

  // ---- the log view
  var ANSI_RE = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b[^[]?/g;
  function ansiAppend(pre, text, st, atTop) {
    var frag = document.createDocumentFragment(), last = 0, m;
    function push(t) {
      if (!t) return;
      if (!st.fg && !st.bold) { frag.appendChild(document.createTextNode(t)); return; }
      var s = el('span', { class: (st.fg ? 'a' + st.fg : '') + (st.bold ? ' ab' : '') }, t);
      frag.appendChild(s);
    }
    ANSI_RE.lastIndex = 0;
    while ((m = ANSI_RE.exec(text))) {
      push(text.slice(last, m.index)); last = ANSI_RE.lastIndex;
      if (m[2] !== 'm') continue;
      (m[1] || '0').split(';').forEach(function (n) {
        n = +n;
        if (n === 0) { st.fg = 0; st.bold = false; } else if (n === 1) st.bold = true; else if (n === 22) st.bold = false;
        else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) st.fg = n; else if (n === 39) st.fg = 0;
      });
    }
    push(text.slice(last));
    if (atTop) pre.insertBefore(frag, pre.firstChild); else pre.appendChild(frag);
  }

  function buildLog() {
    var box = el('section', { id: 'log', class: 'logview', role: 'region', 'aria-label': 'Log' });
    box.hidden = true;
    var bar = el('div', { class: 'logbar' });
    var title = el('h2', { id: 'logtitle' });
    var tabs = el('div', { role: 'tablist', class: 'tabs' });
    var out = el('button', { type: 'button', role: 'tab', 'data-channel': 'stdout', class: 'tab' }, 'stdout');
    var err = el('button', { type: 'button', role: 'tab', 'data-channel': 'stderr', class: 'tab' }, 'stderr');
    tabs.appendChild(out); tabs.appendChild(err);
    var followLabel = el('label', { class: 'follow' });
    var follow = el('input', { type: 'checkbox', id: 'follow' }); follow.checked = true;
    followLabel.appendChild(follow); followLabel.appendChild(document.createTextNode(' Follow'));
    var pause = el('button', { type: 'button', id: 'pause', class: 'btn', 'aria-pressed': 'false' }, 'Pause');
    var more = el('button', { type: 'button', id: 'more', class: 'btn' }, 'Load more');
    var close = el('button', { type: 'button', id: 'logclose', class: 'btn', 'aria-label': 'Close the log' }, 'Close');
    [title, tabs, followLabel, pause, more, close].forEach(function (x) { bar.appendChild(x); });
    var pre = el('pre', { id: 'logtext', class: 'logtext', tabindex: '0' });
    var status = el('p', { id: 'logstatus', class: 'logstatus' });
    box.appendChild(bar); box.appendChild(pre); box.appendChild(status);
    logView = { box: box, title: title, pre: pre, status: status, follow: follow, pause: pause, tabs: [out, err], name: '', channel: 'stdout', start: 0, end: 0, timer: null, paused: false, gen: 0, st: {} };
    tabs.addEventListener('click', function (e) { var t = e.target.closest('[data-channel]'); if (t) showLog(logView.name, t.dataset.channel); });
    tabs.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { var t = logView.channel === 'stdout' ? err : out; if (!t.hidden) { t.focus(); showLog(logView.name, t.dataset.channel); } }
    });
    pause.addEventListener('click', function () {
      logView.paused = !logView.paused;
      pause.setAttribute('aria-pressed', String(logView.paused));
      pause.textContent = logView.paused ? 'Resume' : 'Pause';
      if (!logView.paused) followLog();
    });
    follow.addEventListener('change', function () { if (follow.checked) scrollDown(); });
    // Scrolling up to read stops following; scrolling back to the end resumes.
    pre.addEventListener('scroll', function () {
      var atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 4;
      if (follow.checked !== atEnd && !logView.scrolling) follow.checked = atEnd;
    });
    more.addEventListener('click', loadMore);
    close.addEventListener('click', closeLog);
    return box;
  }

  function openLog(ns) { showLog(ns, 'stdout'); logView.box.querySelector('[data-channel="' + logView.channel + '"]').focus(); }
  function closeLog() { clearTimeout(logView.timer); logView.gen++; logView.box.hidden = true; }
  function logURL(extra) {
    return 'ui/api/log?name=' + encodeURIComponent(logView.name) + '&channel=' + logView.channel + extra;
  }
  function scrollDown() {
    logView.scrolling = true;
    logView.pre.scrollTop = logView.pre.scrollHeight;
    setTimeout(function () { logView.scrolling = false; }, 50);
  }

  function showLog(ns, channel) {
    var v = logView;
    clearTimeout(v.timer);
    v.gen++; v.name = ns; v.channel = channel; v.st = {};
    v.box.hidden = false;
    setText(v.title, ns ? ns : 'supervisord (main log)');
    v.tabs.forEach(function (t) {
      var on = t.dataset.channel === channel;
      t.setAttribute('aria-selected', String(on)); t.tabIndex = on ? 0 : -1;
      t.hidden = !ns && t.dataset.channel === 'stderr';
    });
    v.pre.textContent = '';
    var gen = v.gen;
    getJSON(logURL('')).then(function (j) {
      if (gen !== v.gen) return;
      v.start = j.start; v.end = j.end;
      ansiAppend(v.pre, j.text, v.st, false);
      setText(v.status, j.size ? '' : '(empty)');
      scrollDown();
      v.timer = setTimeout(followLog, LOG_POLL_MS);
    }, function (e) { if (gen === v.gen) setText(v.status, e.message); });
  }

  function followLog() {
    var v = logView, gen = v.gen;
    clearTimeout(v.timer);
    if (v.paused || v.box.hidden) return;
    getJSON(logURL('&at=' + v.end)).then(function (j) {
      if (gen !== v.gen) return;
      if (j.reset) { v.pre.textContent = ''; v.start = j.start; v.st = {}; }
      if (j.text) {
        ansiAppend(v.pre, j.text, v.st, false);
        while (v.pre.textContent.length > LOG_KEEP && v.pre.firstChild) { v.pre.removeChild(v.pre.firstChild); v.start = -1; }
        if (v.follow.checked) scrollDown();
      }
      v.end = j.end;
      setText(v.status, '');
    }, function (e) { if (gen === v.gen) setText(v.status, e.message); }).then(function () {
      if (gen === v.gen) v.timer = setTimeout(followLog, LOG_POLL_MS);
    });
  }

  function loadMore() {
    var v = logView, gen = v.gen;
    if (v.start <= 0) { setText(v.status, 'This is the beginning of the log.'); return; }
    getJSON(logURL('&before=' + v.start)).then(function (j) {
      if (gen !== v.gen) return;
      var keep = v.pre.scrollHeight - v.pre.scrollTop;
      ansiAppend(v.pre, j.text, {}, true);
      v.start = j.start;
      v.pre.scrollTop = v.pre.scrollHeight - keep;
      setText(v.status, v.start ? '' : 'This is the beginning of the log.');
    }, function (e) { setText(v.status, e.message); });
  }

  // This script runs from the head, before the body is parsed: ask for the
  // status now, and hide the server's table (CSS: html.js #legacy) so the
  // browser never lays it out; build the live table once the body is there.
  if (document.documentElement.getAttribute('data-page') !== 'status') return;
  document.documentElement.classList.add('js');
  var first = getJSON('ui/api/status');
  function start() { build(); poll(first); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
