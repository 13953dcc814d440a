'use strict';
// The submission page's script. Without it the form is a plain multipart POST that the
// server seals; with it, the browser seals the submission in a Web Worker and uploads only
// ciphertext, in chunks, resuming after network errors. It never falls back to the plain
// POST by itself: the page told the submitter which of the two happens.
const API = '/api/v1/uploads';
const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 30000;
// Chunks sealed ahead of the upload: chunk n+1 is sealed while chunk n is on the wire.
const CREDITS = 2;

class UploadError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
    this.serverMessage = message || null;
  }
}

function readConfig() {
  const element = document.getElementById('sealdrop-config');
  if (element === null) return null;
  try {
    return JSON.parse(element.textContent);
  } catch (error) {
    return null;
  }
}

function withLang(config, path) {
  const lang = encodeURIComponent(config.lang || 'en');
  return `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;
}

function delay(ms) {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

function backoff(attempt) {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

// One JSON request. Resolves {status, body}; rejects only on network failure.
async function request(config, method, path, body, contentType) {
  const init = { method, cache: 'no-store', credentials: 'same-origin', redirect: 'error' };
  if (body !== undefined) {
    init.body = body;
    init.headers = { 'Content-Type': contentType };
  }
  const response = await fetch(withLang(config, path), init);
  let json = {};
  try {
    json = await response.json();
  } catch (error) {
    json = {};
  }
  return { status: response.status, body: json };
}

function apiError(result) {
  const code = typeof result.body.error === 'string' ? result.body.error : 'generic';
  const message = typeof result.body.message === 'string' ? result.body.message : null;
  return new UploadError(code, message);
}

// Temporary trouble worth retrying: the server is busy or a proxy (Tor) hiccuped.
function retryable(status) {
  return status === 503 || status === 502 || status === 504 || status === 429;
}

// Items posted by the worker, awaited in order by the uploader.
class Inbox {
  constructor() {
    this._items = [];
    this._waiter = null;
  }

  push(item) {
    if (this._waiter !== null) {
      const resolve = this._waiter;
      this._waiter = null;
      resolve(item);
    } else {
      this._items.push(item);
    }
  }

  next() {
    if (this._items.length > 0) return Promise.resolve(this._items.shift());
    return new Promise((resolve) => {
      this._waiter = resolve;
    });
  }
}

class Submission {
  constructor(config, ui) {
    this.config = config;
    this.ui = ui;
    this.inbox = new Inbox();
    this.worker = null;
  }

  async run(message, files) {
    this.ui.say('encrypting');
    this.worker = new Worker('/static/js/worker.js');
    this.worker.addEventListener('message', (event) => this.inbox.push(event.data));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.inbox.push({ type: 'error', code: 'crypto', detail: String(event.message) });
    });
    this.worker.postMessage({
      type: 'start',
      recipients: this.config.recipients,
      message,
      files,
      chunkBytes: this.config.chunk_bytes,
      credits: CREDITS,
    });
    try {
      const size = (await this.expect('size')).size;
      this.ui.progress(0, size);
      const id = await this.create(size);
      let uploaded = 0;
      for (;;) {
        const item = await this.expect('chunk', 'done');
        if (item.type === 'done') break;
        const data = new Uint8Array(item.data);
        uploaded = await this.put(id, item.offset, data, size);
        this.worker.postMessage({ type: 'credit' });
      }
      if (uploaded !== size) throw new UploadError('broken');
      this.ui.say('finishing');
      await this.finish(id);
    } finally {
      this.worker.terminate();
    }
  }

  // The next worker message of one of the given types.
  async expect(...types) {
    for (;;) {
      const item = await this.inbox.next();
      if (item.type === 'error') throw new UploadError(`worker-${item.code}`, null);
      if (types.includes(item.type)) return item;
    }
  }

  async create(size) {
    const body = JSON.stringify({ size });
    const result = await this.retry(() =>
      request(this.config, 'POST', API, body, 'application/json'),
    );
    if (result.status !== 201 || typeof result.body.id !== 'string') throw apiError(result);
    this.chunkLimit = Math.min(this.config.chunk_bytes, result.body.chunk_bytes || Infinity);
    return result.body.id;
  }

  // Sends data (which starts at offset) until the server holds all of it; returns the
  // number of bytes the server has received in total.
  async put(id, offset, data, size) {
    const end = offset + data.length;
    const path = `${API}/${encodeURIComponent(id)}`;
    let sent = offset;
    let attempt = 0;
    while (sent < end) {
      const piece = data.subarray(sent - offset, Math.min(end, sent + this.chunkLimit) - offset);
      let result = null;
      try {
        result = await request(
          this.config,
          'PUT',
          `${path}?offset=${sent}`,
          piece,
          'application/octet-stream',
        );
      } catch (networkError) {
        result = null;
      }
      if (result !== null && result.status === 200 && Number.isInteger(result.body.received)) {
        if (result.body.received > sent) {
          sent = result.body.received;
          attempt = 0;
          this.ui.progress(Math.min(sent, size), size);
          this.ui.say('uploading', { percent: Math.floor((100 * Math.min(sent, size)) / size) });
        } else if (++attempt > MAX_ATTEMPTS) {
          throw new UploadError('broken');
        }
        continue;
      }
      if (result !== null && !(result.status === 409 || retryable(result.status))) {
        throw apiError(result);
      }
      // A conflict tells where the server is; after a network error we have to ask.
      let received = result !== null && result.status === 409 ? result.body.received : null;
      if (result === null || retryable(result.status)) {
        if (attempt >= MAX_ATTEMPTS) {
          throw result === null ? new UploadError('network') : apiError(result);
        }
        this.ui.say('retrying');
        await delay(backoff(attempt));
        attempt += 1;
        received = await this.received(path);
      }
      if (received === null) continue;
      if (!Number.isInteger(received) || received < offset) {
        // The server lost bytes this page no longer holds (they are sealed only once).
        throw new UploadError('broken');
      }
      sent = Math.min(Math.max(received, offset), end);
    }
    return sent;
  }

  async received(path) {
    try {
      const result = await request(this.config, 'GET', path);
      if (result.status === 200 && Number.isInteger(result.body.received)) {
        return result.body.received;
      }
      if (result.status === 404) throw apiError(result);
    } catch (error) {
      if (error instanceof UploadError) throw error;
    }
    return null;
  }

  async finish(id) {
    const path = `${API}/${encodeURIComponent(id)}/finish`;
    const result = await this.retry(() => request(this.config, 'POST', path));
    if (result.status !== 201) throw apiError(result);
  }

  // Repeats a request through network errors and busy answers, with backoff.
  async retry(send) {
    for (let attempt = 0; ; attempt += 1) {
      let result = null;
      try {
        result = await send();
      } catch (networkError) {
        result = null;
      }
      if (result !== null && !retryable(result.status)) return result;
      if (attempt >= MAX_ATTEMPTS) {
        if (result === null) throw new UploadError('network');
        throw apiError(result);
      }
      this.ui.say('retrying');
      await delay(backoff(attempt));
    }
  }
}

class Page {
  constructor(config) {
    this.config = config;
    this.messages = config.messages || {};
    this.form = document.getElementById('submit-form');
    this.status = document.getElementById('status');
    this.bar = document.getElementById('progress');
    this.button = document.getElementById('send');
    this.size = 0;
    this.busy = false;
  }

  text(key) {
    return this.messages[key] || this.messages.error_generic || key;
  }

  // Catalog texts may hold {name} placeholders, such as "Sending… {percent}%".
  say(key, values = {}) {
    const text = this.text(key).replace(/\{(\w+)\}/g, (match, name) =>
      name in values ? String(values[name]) : match,
    );
    this.showText(text);
  }

  showText(text) {
    if (this.status !== null && this.status.textContent !== text) this.status.textContent = text;
  }

  progress(value, max) {
    if (this.bar === null) return;
    this.bar.hidden = false;
    this.bar.max = max;
    this.bar.value = value;
  }

  errorText(error) {
    const keys = {
      'too-large': 'error_too_large',
      'storage-full': 'error_storage_full',
      busy: 'error_busy',
      malformed: 'error_broken',
      'not-found': 'error_broken',
      conflict: 'error_broken',
      broken: 'error_broken',
    };
    if (error instanceof UploadError && error.serverMessage) return error.serverMessage;
    const key = error instanceof UploadError ? keys[error.code] : undefined;
    return this.text(key || 'error_generic');
  }

  setBusy(busy) {
    this.busy = busy;
    if (this.button !== null) this.button.disabled = busy;
    this.form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  async submit() {
    const message = document.getElementById('message').value;
    const input = document.getElementById('attachments');
    const files = input && input.files ? Array.from(input.files) : [];
    if (message.trim() === '' && files.length === 0 && this.messages.error_empty) {
      this.showText(this.messages.error_empty);
      return;
    }
    this.setBusy(true);
    try {
      await new Submission(this.config, this).run(message, files);
      this.say('sent');
      window.location.assign(this.config.sent_url);
    } catch (error) {
      this.showText(this.errorText(error));
      if (this.bar !== null) this.bar.hidden = true;
      this.setBusy(false);
    }
  }

  start() {
    const notice = document.getElementById('js-notice');
    if (notice !== null) notice.hidden = false;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.busy) this.submit();
    });
  }
}

function main() {
  const config = readConfig();
  const form = document.getElementById('submit-form');
  // Missing pieces leave the plain form, and its no-JavaScript notice, in charge.
  if (config === null || form === null || typeof Worker === 'undefined' || !window.fetch) return;
  new Page(config).start();
}

main();
