'use strict';
// The submission page's script. Without it the form is a plain multipart POST that the
// server seals; with it, the browser seals the submission in a Web Worker and uploads only
// ciphertext, in chunks, resuming after network errors. It never falls back to the plain
// POST by itself: the page told the submitter which of the two happens.
const { UploadClient, UploadError } = require('./upload.js');

// Chunks sealed ahead of the upload: chunk n+1 is sealed while chunk n is on the wire.
const CREDITS = 2;

function readConfig() {
  const element = document.getElementById('sealdrop-config');
  if (element === null) return null;
  try {
    return JSON.parse(element.textContent);
  } catch (error) {
    return null;
  }
}

// Items posted by the worker, awaited in order.
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

// The sealing worker with its messages queued from the moment it exists, so that nothing it
// says while loading (an error included) is missed. The page starts one as soon as the form
// is touched: at Tor Browser's Safer level loading libsodium takes seconds, better spent while
// the submitter is still writing.
class SealingWorker {
  constructor() {
    this.inbox = new Inbox();
    this.worker = new Worker('/static/js/worker.js');
    this.worker.addEventListener('message', (event) => this.inbox.push(event.data));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.inbox.push({ type: 'error', code: 'crypto', detail: String(event.message) });
    });
  }

  post(message) {
    this.worker.postMessage(message);
  }

  terminate() {
    this.worker.terminate();
  }
}

// One submission: the worker seals, the client uploads what it hands out.
class Submission {
  constructor(config, ui, worker) {
    this.config = config;
    this.ui = ui;
    this.worker = worker;
    this.client = new UploadClient({
      lang: config.lang,
      chunkBytes: config.chunk_bytes,
      onStatus: (key, values) => ui.say(key, values),
      onProgress: (done, size) => ui.progress(done, size),
    });
  }

  // followUp: the codename typed for a follow-up, or null for a new codename. Resolves to
  // {codename, isNew} once the submission is stored.
  async run(message, files, followUp = null) {
    this.ui.say('encrypting');
    const worker = this.worker;
    worker.post({
      type: 'start',
      recipients: this.config.recipients,
      message,
      files,
      chunkBytes: this.config.chunk_bytes,
      credits: CREDITS,
      codename: followUp,
      language: this.config.lang,
    });
    try {
      const named = await this.expect('codename');
      const { size } = await this.expect('size');
      // The server would refuse it too; saying so now spares a round trip over Tor.
      if (size > this.config.max_bytes) throw new UploadError('too-large');
      this.ui.progress(0, size);
      const id = await this.client.create(size);
      let uploaded = 0;
      for (;;) {
        const item = await this.expect('chunk', 'done');
        if (item.type === 'done') break;
        uploaded = await this.client.put(id, item.offset, new Uint8Array(item.data), size);
        worker.post({ type: 'credit' });
      }
      if (uploaded !== size) throw new UploadError('broken');
      this.ui.say('finishing');
      await this.client.finish(id);
      return named;
    } finally {
      worker.terminate();
    }
  }

  // The next worker message of one of the given types.
  async expect(...types) {
    for (;;) {
      const item = await this.worker.inbox.next();
      if (item.type === 'error') throw new UploadError(`worker-${item.code}`, null);
      if (types.includes(item.type)) return item;
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
    this.busy = false;
    this.worker = null;
  }

  warm() {
    if (this.worker === null) this.worker = new SealingWorker();
  }

  // Each submission uses up its worker; the next one gets a fresh one.
  takeWorker() {
    this.warm();
    const worker = this.worker;
    this.worker = null;
    return worker;
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
      network: 'error_broken',
      'worker-codename': 'error_codename', // a follow-up's codename was mistyped
      // A chosen file could not be read (moved or deleted since it was chosen).
      'worker-read': this.messages.error_unreadable ? 'error_unreadable' : 'error_broken',
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
    const field = this.form.elements.namedItem('codename');
    this.setBusy(true);
    try {
      const submission = new Submission(this.config, this, this.takeWorker());
      const named = await submission.run(message, files, field ? field.value : null);
      this.say('sent');
      this.showSent(named);
    } catch (error) {
      this.showText(this.errorText(error));
      if (this.bar !== null) this.bar.hidden = true;
      this.setBusy(false);
    }
  }

  // The confirmation replaces the page's content in place: the codename exists only here,
  // never in an address, cookie or storage. The address becomes the confirmation page's.
  showSent(named) {
    const section = document.getElementById('sent-section');
    if (section === null) {
      window.location.assign(this.config.sent_url);
      return;
    }
    for (const child of section.parentElement.children) child.hidden = child !== section;
    document.getElementById('codename').textContent = named.isNew ? named.codename : '';
    document.getElementById('codename-section').hidden = !named.isNew;
    document.getElementById('sent-message').hidden = !named.isNew;
    document.getElementById('followup-sent-message').hidden = named.isNew;
    section.hidden = false;
    window.history.replaceState(null, '', this.config.sent_url);
    window.scrollTo(0, 0);
  }

  start() {
    const notice = document.getElementById('js-notice');
    if (notice !== null) notice.hidden = false;
    this.form.addEventListener('focusin', () => this.warm());
    this.form.addEventListener('change', () => this.warm());
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
