// The page of `folio serve`: the books, a player over a book's audio files that shows the page
// being read (GET /position), a page list, "Scan a page" (POST /match) and "Where am I in my
// book?" (scan to read). Plain JavaScript, no library, no request to another server.
'use strict';

const $ = (id) => document.getElementById(id);
const audio = $('audio');
const state = { id: null, info: null, pages: [], offsets: [], file: 0, asked: null, asking: false, again: false };

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, options));
  if (r.status === 401) {
    location.assign('/login');
    throw new Error('This server asks for its token.');
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body && body.error ? body.error.message : 'the server answered ' + r.status);
  return body;
}

const bookUrl = (id) => '/v1/books/' + encodeURIComponent(id);

function clock(sec) {
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = String(s % 60).padStart(2, '0');
  return h ? h + ':' + String(m).padStart(2, '0') + ':' + r : m + ':' + r;
}

function length(sec) {
  return sec >= 3600 ? (sec / 3600).toFixed(1) + ' hours' : Math.round(sec / 60) + ' minutes';
}

function el(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props || {});
  for (const c of children) e.append(c);
  return e;
}

// "page 112 · Chapter VII" of a lookup result.
function place(m) {
  return 'page ' + m.page.label + (m.chapter && m.chapter.title ? ' · ' + m.chapter.title : '');
}

async function loadBooks() {
  const status = $('library-status');
  try {
    const list = (await api('/v1/books')).books;
    const infos = await Promise.all(list.map((b) => api(bookUrl(b.id)).catch(() => null)));
    const ul = $('books');
    ul.replaceChildren();
    list.forEach((b, i) => {
      const info = infos[i];
      const sub = info
        ? [info.author, length(info.duration), info.pages + ' pages'].filter(Boolean).join(' · ')
        : 'cannot be opened';
      const button = el('button', { type: 'button', disabled: !info },
        el('span', { className: 'title', textContent: info && info.title ? info.title : b.id }),
        el('span', { className: 'sub', textContent: sub }));
      button.setAttribute('aria-pressed', 'false');
      button.dataset.id = b.id;
      button.addEventListener('click', () => openBook(b.id, info));
      ul.append(el('li', null, button));
    });
    status.textContent = list.length ? list.length + (list.length === 1 ? ' book' : ' books') : 'No books.';
    if (list.length === 1 && infos[0]) openBook(list[0].id, infos[0]);
  } catch (e) {
    status.textContent = 'The books cannot be listed: ' + e.message;
  }
}

async function openBook(id, info) {
  for (const b of document.querySelectorAll('#books button'))
    b.setAttribute('aria-pressed', String(b.dataset.id === id));
  Object.assign(state, { id, info, pages: [], asked: null });
  let t = 0;
  state.offsets = info.audio.map((f) => { const o = t; t += f.duration; return o; });
  $('book-title').textContent = info.title || id;
  $('book-meta').textContent = [info.author, length(info.duration), info.pages + ' pages',
    info.audio.length + (info.audio.length === 1 ? ' audio file' : ' audio files')].filter(Boolean).join(' · ');
  const select = $('file');
  select.replaceChildren(...info.audio.map((f, i) =>
    el('option', { value: String(i), textContent: (i + 1) + '. ' + f.path + ' (' + clock(f.duration) + ')' })));
  $('now').textContent = 'Press play to start.';
  $('scan-result').textContent = $('where-result').textContent = '';
  $('book').hidden = false;
  load(0);
  try {
    state.pages = (await api(bookUrl(id) + '/pages')).pages;
  } catch (e) {
    state.pages = [];
  }
  if (state.id !== id) return;
  $('pages').replaceChildren(...state.pages.map((p) => {
    const read = p.file !== null;
    const b = el('button', { type: 'button', disabled: !read },
      'p. ' + p.label, el('span', { className: 't', textContent: read ? clock(p.time) : 'not read' }));
    b.dataset.ordinal = p.ordinal;
    b.setAttribute('aria-label', 'Page ' + p.label + (p.chapter ? ', ' + p.chapter : '') +
      (read ? ', at ' + clock(p.time) : ', not read'));
    if (read) b.addEventListener('click', () => seek(p.file, p.file_time, true));
    return el('li', null, b);
  }));
}

function load(file) {
  state.file = file;
  $('file').value = String(file);
  audio.src = bookUrl(state.id) + '/audio/' + file;
}

// Play file @file from @t seconds (switching files when it is another one).
function seek(file, t, play) {
  const go = () => {
    audio.currentTime = t;
    if (play) audio.play().catch(() => {});
  };
  if (file !== state.file || !audio.currentSrc) {
    load(file);
    audio.addEventListener('loadedmetadata', go, { once: true });
  } else if (audio.readyState >= 1) {
    go();
  } else {
    audio.addEventListener('loadedmetadata', go, { once: true });
  }
}

const globalTime = () => (state.offsets[state.file] || 0) + audio.currentTime;

// Keep "page 112 · Chapter VII" current: one /position request at a time, and only when the time
// has moved.
async function track() {
  if (!state.id) return;
  if (state.asking) { state.again = true; return; }
  const t = globalTime(), id = state.id;
  if (state.asked !== null && Math.abs(t - state.asked) < 0.5) return;
  state.asking = true;
  state.asked = t;
  try {
    const r = await api(bookUrl(id) + '/position?t=' + t.toFixed(3));
    if (state.id === id) show(r.match);
  } catch (e) {
    if (state.id === id) $('now').textContent = clock(t) + ' · ' + e.message;
  } finally {
    state.asking = false;
    if (state.again) { state.again = false; track(); }
  }
}

function show(m) {
  $('now').textContent = m ? place(m) : 'between pages (the narrator is not reading the book here)';
  const current = m ? String(m.page.ordinal) : null;
  for (const b of document.querySelectorAll('#pages button')) {
    if (b.dataset.ordinal === current) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
}

for (const e of ['timeupdate', 'seeked', 'loadedmetadata']) audio.addEventListener(e, track);
audio.addEventListener('ended', () => {
  if (state.info && state.file + 1 < state.info.audio.length) seek(state.file + 1, 0, true);
});
$('file').addEventListener('change', (e) => seek(Number(e.target.value), 0, false));

// The photo or typed line of form @prefix as a request body.
function query(prefix) {
  const photo = $(prefix + '-photo').files[0];
  const text = $(prefix + '-text').value.trim();
  if (!photo && !text) return null;
  const form = new FormData();
  if (photo) form.append('photo', photo);
  else form.append('text', text);
  return { form, photo, text };
}

async function match(body) {
  return api(bookUrl(state.id) + '/match', { method: 'POST', body });
}

async function busy(form, out, work) {
  const button = form.querySelector('button');
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  out.textContent = 'Looking…';
  try {
    out.textContent = await work();
  } catch (e) {
    out.textContent = 'That did not work: ' + e.message;
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

$('scan').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = query('scan'), out = $('scan-result');
  if (!q) { out.textContent = 'Choose a photo or type a line of the page first.'; return; }
  busy(e.target, out, async () => {
    const m = (await match(q.form)).match;
    $('scan-photo').value = '';
    if (!m) return 'Not in this book.';
    if (m.file === null) return 'Found ' + place(m) + ', but the narrator never reads it.';
    seek(m.file, m.file_time, true);
    return 'Found ' + place(m) + '. Playing from there.';
  });
});

function turn(n) {
  if (n === 0) return 'You are on the page being read.';
  const pages = Math.abs(n) === 1 ? ' page ' : ' pages ';
  return 'Turn ' + Math.abs(n) + pages + (n > 0 ? 'forward.' : 'back.');
}

$('where').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = query('where'), out = $('where-result');
  if (!q) { out.textContent = 'Choose a photo or type a line of the page you hold first.'; return; }
  const t = globalTime();
  busy(e.target, out, async () => {
    if (!q.photo) {
      // Scan to read on the server: the typed line is taken as one page of your edition.
      const r = await match(new Blob([JSON.stringify({ text: q.text, current_time: t })], { type: 'application/json' }));
      if (!r.match) return 'Not in this book.';
      return turn(r.pages_to_flip) + (r.heard ? ' The narrator is on ' + place(r.heard) + '.' : '');
    }
    // A photo: where it is, and where the reading is, in the pages of the indexed edition.
    const [m, heard] = await Promise.all([
      match(q.form).then((r) => r.match),
      api(bookUrl(state.id) + '/position?t=' + t.toFixed(3)).then((r) => r.match)]);
    $('where-photo').value = '';
    if (!m) return 'Not in this book.';
    if (!heard) return 'You hold ' + place(m) + '; the narrator is between pages.';
    return turn(heard.page.ordinal - m.page.ordinal) + ' The narrator is on ' + place(heard) + '.';
  });
});

loadBooks();
