'use strict';
// The submission page's script. Without it the form is a plain multipart POST that the
// server seals; with it, the browser seals the submission in a Web Worker and uploads only
// ciphertext, in chunks, resuming after network errors. It never falls back to the plain
// POST by itself: the page told the submitter which of the two happens.
const { UploadClient, UploadError } = require('./upload.js');
const { stripFile, StripError } = require('./strip-metadata.js');

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
      adaptivePieces: true, // the bar moves every few seconds on a slow link
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
      epochs: this.config.epochs || null, // format v2: each reviewer's signed epoch keys
      message,
      files,
      chunkBytes: this.config.chunk_bytes,
      credits: CREDITS,
      codename: followUp,
      language: this.config.lang,
      mailboxSalt: this.config.mailbox_salt, // the trailer names the deployment's mailbox v2
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
    this.pin = document.getElementById('send-status');
    this.button = document.getElementById('send');
    this.busy = false;
    this.worker = null;
    this.startedAt = null;
    this.done = 0;
    this.size = 0;
    this.codenameShown = false;
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

  // Catalog texts hold python-format placeholders, such as "Sending… %(percent)s%%".
  format(text, values = {}) {
    return text.replace(/%\((\w+)\)s|%%/g, (match, name) => {
      if (match === '%%') return '%';
      return name in values ? String(values[name]) : match;
    });
  }

  say(key, values = {}) {
    if (key === 'uploading') {
      this.showText(this.format(this.text(this.timeLeftKey()), this.timeValues(values)));
      return;
    }
    this.showText(this.format(this.text(key), values));
  }

  showText(text, isError = false) {
    if (this.status === null) return;
    if (this.status.textContent !== text) this.status.textContent = text;
    this.status.className = isError ? 'error' : '';
  }

  // A long upload says how long it still needs, once the rate is known.
  timeLeftKey() {
    return this.secondsLeft() === null ? 'uploading' : 'uploading_left';
  }

  secondsLeft() {
    const elapsed = (Date.now() - this.startedAt) / 1000;
    if (this.startedAt === null || this.done <= 0 || elapsed < 5) return null;
    return ((this.size - this.done) / this.done) * elapsed;
  }

  timeValues(values) {
    const seconds = this.secondsLeft();
    if (seconds === null) return values;
    let left = this.text('less_than_a_minute');
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      const forms = this.config.minutes_left || {};
      const category =
        typeof Intl !== 'undefined' && Intl.PluralRules
          ? new Intl.PluralRules(this.config.lang).select(minutes)
          : 'other';
      left = this.format(forms[category] || forms.other || String(minutes), { num: minutes });
    }
    return { ...values, time_left: left };
  }

  progress(value, max) {
    if (this.startedAt === null) this.startedAt = Date.now();
    this.done = value;
    this.size = max;
    if (value <= 0) return; // the bar keeps moving by itself until bytes are on the wire
    this.say('uploading', { percent: Math.floor((100 * value) / max) });
    if (this.bar === null) return;
    this.bar.hidden = false;
    this.bar.max = max;
    this.bar.value = value;
  }

  errorText(error) {
    if (error instanceof StripError) {
      return this.format(this.text('error_strip'), { name: error.fileName });
    }
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
    // Pinned to the bottom of the screen while sending; the bar moves from the first moment
    // (no value: the browser animates it) until the first piece has arrived.
    if (this.pin !== null) this.pin.classList.toggle('pinned', busy);
    if (busy && this.bar !== null) {
      this.bar.hidden = false;
      this.bar.removeAttribute('value');
    }
  }

  // An error, where the person is looking: in place of the status, scrolled into view.
  showError(text) {
    this.showText(text, true);
    if (this.bar !== null) this.bar.hidden = true;
    if (this.status !== null && this.status.scrollIntoView) {
      this.status.scrollIntoView({ block: 'center' });
    }
  }

  // Photos lose their location and camera details here, before sealing, unless the person
  // chose to keep them.
  async cleanFiles(files) {
    const keep = document.getElementById('keep-metadata');
    if (files.length === 0 || (keep !== null && keep.checked)) return files;
    this.say('cleaning');
    const cleaned = [];
    for (const file of files) cleaned.push((await stripFile(file)).file);
    return cleaned;
  }

  async submit() {
    const message = document.getElementById('message').value;
    const input = document.getElementById('attachments');
    const files = input && input.files ? Array.from(input.files) : [];
    if (message.trim() === '' && files.length === 0 && this.messages.error_empty) {
      this.showError(this.messages.error_empty);
      return;
    }
    const field = this.form.elements.namedItem('codename');
    this.setBusy(true);
    this.startedAt = null;
    try {
      const toSeal = await this.cleanFiles(files);
      const submission = new Submission(this.config, this, this.takeWorker());
      const named = await submission.run(message, toSeal, field ? field.value : null);
      this.say('sent');
      this.setBusy(false);
      this.showSent(named);
    } catch (error) {
      this.setBusy(false);
      this.showError(this.errorText(error));
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
    this.named = named;
    this.codenameShown = named.isNew;
    this.fillSent(named);
    section.hidden = false;
    window.history.replaceState(null, '', this.config.sent_url);
    window.scrollTo(0, 0);
  }

  fillSent(named) {
    document.getElementById('codename').textContent = named.isNew ? named.codename : '';
    const list = document.getElementById('codename-words');
    if (list !== null) {
      list.textContent = '';
      const words = named.isNew ? named.codename.split(' ') : [];
      words.forEach((word, index) => {
        const item = document.createElement('li');
        const number = document.createElement('span');
        number.className = 'number';
        number.textContent = String(index + 1);
        const text = document.createElement('span');
        text.className = 'word';
        text.textContent = word;
        item.append(number, ' ', text);
        list.append(item);
      });
    }
    document.getElementById('codename-section').hidden = !named.isNew;
    document.getElementById('sent-message').hidden = !named.isNew;
    document.getElementById('followup-sent-message').hidden = named.isNew;
  }

  // The language switch on the confirmation keeps the codename: the other language's texts
  // are fetched and put in place here, instead of leaving the page (which would lose it).
  async switchLanguage(link) {
    const response = await fetch(link.href.replace(/\/sent\?/, '/?'), {
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(String(response.status));
    const other = new DOMParser().parseFromString(await response.text(), 'text/html');
    const section = other.getElementById('sent-section');
    const nav = other.querySelector('nav.languages');
    if (section === null || nav === null) throw new Error('not a form page');
    const config = JSON.parse(other.getElementById('sealdrop-config').textContent);
    document.getElementById('sent-section').replaceWith(document.adoptNode(section));
    document.querySelector('nav.languages').replaceWith(document.adoptNode(nav));
    document.documentElement.lang = other.documentElement.lang;
    document.documentElement.dir = other.documentElement.dir;
    document.title = other.title;
    this.config = { ...this.config, lang: config.lang, sent_url: config.sent_url };
    this.messages = config.messages || this.messages;
    this.fillSent(this.named);
    document.getElementById('sent-section').hidden = false;
    window.history.replaceState(null, '', this.config.sent_url);
  }

  // Leaving loses an upload under way, or a codename not yet written down: ask first.
  guardLeaving() {
    window.addEventListener('beforeunload', (event) => {
      const key = this.busy ? 'leave_uploading' : this.codenameShown ? 'leave_codename' : null;
      if (key === null) return;
      event.preventDefault();
      event.returnValue = this.text(key); // older browsers show nothing without it
    });
    document.addEventListener('click', (event) => {
      const link = event.target instanceof Element ? event.target.closest('nav.languages a') : null;
      if (link === null || this.named === undefined) return;
      event.preventDefault();
      this.switchLanguage(link).catch(() => {
        // Could not fetch the other language: stay, codename and all, in this one.
      });
    });
  }

  // What happens to photos' location details is said once files are chosen; without this
  // script, the page says what the person can do instead.
  showStripping() {
    const input = document.getElementById('attachments');
    const notice = document.getElementById('strip-js');
    const plain = document.getElementById('strip-nojs');
    if (plain !== null) plain.hidden = true;
    if (input === null || notice === null) return;
    const update = () => {
      notice.hidden = !(input.files && input.files.length > 0);
    };
    input.addEventListener('change', update);
    update();
  }

  // The page tells the person which way their message is sealed: the server's way until
  // this script has taken over the form, then this device's.
  start() {
    const notice = document.getElementById('js-notice');
    const serverNotice = document.getElementById('server-notice');
    if (notice !== null) notice.hidden = false;
    if (serverNotice !== null) serverNotice.hidden = true;
    this.guardLeaving();
    this.showStripping();
    this.form.addEventListener('focusin', () => this.warm());
    this.form.addEventListener('change', () => this.warm());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.busy) this.submit();
    });
  }
}

// Without JS the replies page's language switch posts the typed codename back to the server;
// with JS the codename never leaves this device, so the switch becomes plain links.
function plainLanguageLinks() {
  for (const button of document.querySelectorAll('nav.languages button[data-href]')) {
    const link = document.createElement('a');
    link.href = button.dataset.href;
    link.lang = button.lang;
    link.hreflang = button.lang;
    link.textContent = button.textContent;
    button.replaceWith(link);
  }
}

function main() {
  plainLanguageLinks();
  const config = readConfig();
  const form = document.getElementById('submit-form');
  // Missing pieces leave the plain form, and its no-JavaScript notice, in charge.
  if (config === null || form === null || typeof Worker === 'undefined' || !window.fetch) return;
  new Page(config).start();
}

main();
