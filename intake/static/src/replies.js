'use strict';
// The replies page's script. Without it, the codename form posts to the server, which
// decrypts for that one page. With it, the codename stays on this device: the worker derives
// the reply key and mailbox, this script fetches the mailbox's ciphertext and the worker
// decrypts it. Attachments become downloads from in-memory blobs; nothing is stored.

function readConfig() {
  const element = document.getElementById('replies-config');
  if (element === null) return null;
  try {
    return JSON.parse(element.textContent);
  } catch (error) {
    return null;
  }
}

class FetchError extends Error {
  constructor(message) {
    super(message || '');
    this.serverMessage = message || null;
  }
}

// One request at a time to the worker, answered in order.
class RepliesWorker {
  constructor() {
    this.worker = new Worker('/static/js/replies-worker.js');
    this.waiting = [];
    this.worker.addEventListener('message', (event) => this.answer(event.data));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.answer({ type: 'error', detail: String(event.message) });
    });
  }

  answer(item) {
    const next = this.waiting.shift();
    if (next !== undefined) next(item);
  }

  ask(request, transfer = []) {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(request, transfer);
    });
  }
}

class RepliesPage {
  constructor(config) {
    this.config = config;
    this.messages = config.messages || {};
    this.form = document.getElementById('codename-form');
    this.input = document.getElementById('codename-input');
    this.status = document.getElementById('replies-status');
    this.list = document.getElementById('replies');
    this.button = document.getElementById('check');
    this.worker = null;
    this.urls = [];
  }

  // Catalog texts hold python-format placeholders, such as "Reply written %(hour)s".
  text(key, values = {}) {
    const text = this.messages[key] || this.messages.error_generic || key;
    return text.replace(/%\((\w+)\)s|%%/g, (match, name) => {
      if (match === '%%') return '%';
      return name in values ? String(values[name]) : match;
    });
  }

  say(text, isError = false) {
    this.status.textContent = text;
    this.status.className = isError ? 'error' : '';
  }

  api(path, options = {}) {
    const separator = path.includes('?') ? '&' : '?';
    return fetch(`${path}${separator}lang=${encodeURIComponent(this.config.lang)}`, {
      credentials: 'omit',
      cache: 'no-store',
      ...options,
    }).then(async (response) => {
      if (response.ok) return response;
      let message = null;
      try {
        message = (await response.json()).message;
      } catch (error) {
        message = null;
      }
      throw new FetchError(message);
    });
  }

  clear() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.list.textContent = '';
    this.offerFollowUp(null); // the follow-up only ever carries the codename just checked
  }

  async check() {
    if (this.worker === null) this.worker = new RepliesWorker();
    this.button.disabled = true;
    this.clear();
    this.say(this.text('replies_deriving'));
    try {
      const derived = await this.derive(this.input.value);
      if (derived.type === 'invalid') {
        const key = derived.reason === 'count' ? 'error_codename_count' : 'error_codename_word';
        this.say(this.text(key, { count: derived.value, position: derived.value }), true);
        return;
      }
      if (derived.type !== 'derived') throw new Error(derived.detail);
      this.say(this.text('replies_fetching'));
      const found = await this.findOrder(derived);
      const { replies } = found;
      for (const reply of replies) {
        const data = await (await this.api(`${reply.base}/${reply.id}`)).arrayBuffer();
        const opened = await this.worker.ask({ type: 'open', id: reply.id, data }, [data]);
        this.show(reply.base, reply, opened);
      }
      if (replies.length === 0) {
        const none = document.createElement('p');
        none.id = 'no-replies';
        none.textContent = this.text('replies_none');
        this.list.append(none);
      }
      this.say('');
      if (found.reordered) this.input.value = found.derived.canonical;
      const reordered = document.getElementById('reordered');
      if (reordered !== null) reordered.hidden = !found.reordered;
      const warning = document.getElementById('followup-order-warning');
      if (warning !== null) warning.hidden = replies.length > 0;
      this.offerFollowUp(found.derived.canonical);
    } catch (error) {
      this.say(error.serverMessage || this.text('replies_failed'), true);
    } finally {
      this.button.disabled = false;
    }
  }

  derive(text) {
    return this.worker.ask({ type: 'derive', codename: text, mailboxSalt: this.config.mailbox_salt });
  }

  // A reading's replies from its mailbox v2 and its legacy one (threads begun before v2), in
  // one request (one check), each with the address it is fetched and deleted at.
  async listAll(derived) {
    const path = `/api/v1/mailboxes/${derived.mailboxes.join(',')}/replies`;
    const { replies } = await (await this.api(path)).json();
    return replies.map((reply) => ({ ...reply, base: `/api/v1/mailboxes/${reply.mailbox}/replies` }));
  }

  // A grid numbered across rows, copied down its columns (1 3 5 7 2 4 6 8), is read back in
  // the order it was issued when only that order has replies (as the server does without JS).
  async findOrder(derived) {
    const replies = await this.listAll(derived);
    if (replies.length > 0) return { derived, replies, reordered: false };
    const words = derived.canonical.split(' ');
    const columns = [0, 4, 1, 5, 2, 6, 3, 7].map((i) => words[i]).join(' ');
    const other = await this.derive(columns);
    const theirs = other.type === 'derived' ? await this.listAll(other) : [];
    if (theirs.length > 0) return { derived: other, replies: theirs, reordered: true };
    await this.derive(derived.canonical);
    return { derived, replies, reordered: false };
  }

  show(base, reply, opened) {
    const article = document.createElement('article');
    article.className = 'reply';
    article.dataset.replyId = reply.id;
    const heading = document.createElement('h2');
    const hour = reply.received_text || reply.received.replace('T', ' ').replace('Z', ' UTC');
    heading.textContent = this.text('reply_written', { hour });
    article.append(heading);
    if (opened.type !== 'opened') {
      const note = document.createElement('p');
      note.textContent = this.text('reply_unreadable');
      article.append(note);
    } else {
      const body = document.createElement('div');
      body.className = 'reply-text';
      body.textContent = opened.message; // text, never markup
      article.append(body);
      if (opened.files.length > 0) {
        const note = document.createElement('p');
        note.className = 'hint';
        note.textContent = this.text('downloads_stay');
        article.append(note);
      }
      for (const file of opened.files) {
        // Always a download as opaque bytes: the browser never renders what a reply carries.
        const url = URL.createObjectURL(new Blob([file.data], { type: 'application/octet-stream' }));
        this.urls.push(url);
        const link = document.createElement('a');
        link.href = url;
        link.download = file.name.replace(/[/\\]/g, '_');
        link.className = 'download';
        link.textContent = `${this.text('download')}: ${file.name}`;
        article.append(link, document.createTextNode(' '));
      }
    }
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'delete';
    remove.textContent = this.text('delete_reply');
    remove.addEventListener('click', () => this.askDelete(base, reply.id, article, remove));
    article.append(remove);
    this.list.append(article);
  }

  // Deleting cannot be undone: the first press asks, next to the reply.
  askDelete(base, id, article, button) {
    const box = document.createElement('div');
    box.className = 'confirm error';
    const question = document.createElement('p');
    question.textContent = this.text('delete_confirm');
    const yes = document.createElement('button');
    yes.type = 'button';
    yes.className = 'delete delete-yes';
    yes.textContent = this.text('delete_yes');
    const no = document.createElement('button');
    no.type = 'button';
    no.className = 'link';
    no.textContent = this.text('delete_no');
    yes.addEventListener('click', () => this.remove(base, id, article));
    no.addEventListener('click', () => {
      box.remove();
      button.hidden = false;
    });
    box.append(question, yes, ' ', no);
    button.hidden = true;
    article.append(box);
    yes.focus();
  }

  async remove(base, id, article) {
    try {
      await this.api(`${base}/${id}`, { method: 'DELETE' });
      article.remove();
      this.say(this.text('reply_deleted'));
    } catch (error) {
      this.say(error.serverMessage || this.text('replies_failed'), true);
    }
  }

  offerFollowUp(canonical) {
    const section = document.getElementById('followup');
    const field = document.getElementById('followup-codename');
    if (field !== null) field.value = canonical || '';
    if (section !== null) section.hidden = !canonical;
  }

  // The codename stays on this device from here on; the page says so only now.
  start() {
    const notice = document.getElementById('replies-js-notice');
    const serverNotice = document.getElementById('replies-server-notice');
    if (notice !== null) notice.hidden = false;
    if (serverNotice !== null) serverNotice.hidden = true;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.button.disabled) this.check();
    });
  }
}

function main() {
  const config = readConfig();
  if (config === null || document.getElementById('codename-form') === null) return;
  if (typeof Worker === 'undefined' || !window.fetch) return;
  new RepliesPage(config).start();
}

main();
