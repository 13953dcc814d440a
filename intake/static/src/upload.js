'use strict';
// The upload API client (docs/UPLOAD.md): create, PUT chunks at offsets until acknowledged,
// finish. It retries through busy answers and network errors, and resumes from what the
// server says it holds. Used by app.js in the page, and by the tests in Node.
const API = '/api/v1/uploads';

class UploadError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
    this.serverMessage = message || null;
  }
}

// Temporary trouble worth retrying: the server is busy or a proxy (Tor) hiccuped.
function retryable(status) {
  return status === 503 || status === 502 || status === 504 || status === 429;
}

function apiError(result) {
  const code = typeof result.body.error === 'string' ? result.body.error : 'generic';
  const message = typeof result.body.message === 'string' ? result.body.message : null;
  return new UploadError(code, message);
}

class UploadClient {
  // onStatus(key, values) gets 'uploading' {percent} and 'retrying'; onProgress(bytes, size).
  constructor(options) {
    this.base = options.baseUrl || '';
    this.lang = options.lang || 'en';
    this.chunkBytes = options.chunkBytes;
    this.onStatus = options.onStatus || (() => {});
    this.onProgress = options.onProgress || (() => {});
    this.backoffMs = options.backoffMs || 1000;
    this.maxBackoffMs = options.maxBackoffMs || 30000;
    this.maxAttempts = options.maxAttempts || 8;
    this.fetch = options.fetch || ((...args) => fetch(...args));
    this.stored = new Set(); // ids the server said it stored whole
  }

  // One JSON request. Resolves {status, body}; rejects only on network failure.
  async request(method, path, body, contentType) {
    const init = { method, cache: 'no-store', credentials: 'same-origin', redirect: 'error' };
    if (body !== undefined) {
      init.body = body;
      init.headers = { 'Content-Type': contentType };
    }
    const separator = path.includes('?') ? '&' : '?';
    const url = `${this.base}${path}${separator}lang=${encodeURIComponent(this.lang)}`;
    const response = await this.fetch(url, init);
    let json = {};
    try {
      json = await response.json();
    } catch (error) {
      json = {};
    }
    return { status: response.status, body: json };
  }

  delay(attempt) {
    const ms = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
    return new Promise((resolve) => {
      setTimeout(resolve, ms * (0.75 + Math.random() / 2));
    });
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
      if (attempt >= this.maxAttempts) {
        if (result === null) throw new UploadError('network');
        throw apiError(result);
      }
      this.onStatus('retrying');
      await this.delay(attempt);
    }
  }

  async create(size) {
    const body = JSON.stringify({ size });
    const result = await this.retry(() => this.request('POST', API, body, 'application/json'));
    if (result.status !== 201 || typeof result.body.id !== 'string') throw apiError(result);
    this.limit = Math.min(this.chunkBytes, result.body.chunk_bytes || Infinity);
    return result.body.id;
  }

  // Sends data (which starts at offset) until the server holds all of it; returns the
  // number of bytes the server holds in total.
  async put(id, offset, data, size) {
    const end = offset + data.length;
    const path = `${API}/${encodeURIComponent(id)}`;
    let sent = offset;
    let attempt = 0;
    while (sent < end) {
      const piece = data.subarray(sent - offset, Math.min(end, sent + this.limit) - offset);
      let result = null;
      try {
        result = await this.request('PUT', `${path}?offset=${sent}`, piece, 'application/octet-stream');
      } catch (networkError) {
        result = null;
      }
      if (result !== null && result.status === 200 && Number.isInteger(result.body.received)) {
        // A small upload sent whole is stored at its PUT: finish has nothing left to do.
        if (result.body.stored === true) this.stored.add(id);
        if (result.body.received > sent) {
          sent = result.body.received;
          attempt = 0;
          const done = Math.min(sent, size);
          this.onProgress(done, size);
          this.onStatus('uploading', { percent: Math.floor((100 * done) / size) });
        } else if (++attempt > this.maxAttempts) {
          throw new UploadError('broken');
        }
        continue;
      }
      if (result !== null && !(result.status === 409 || retryable(result.status))) {
        throw apiError(result);
      }
      attempt += 1;
      if (attempt > this.maxAttempts) {
        throw result === null ? new UploadError('network') : apiError(result);
      }
      // A conflict says where the server is; after a network error we have to ask.
      let received;
      if (result !== null && result.status === 409) {
        received = result.body.received;
      } else {
        this.onStatus('retrying');
        await this.delay(attempt - 1);
        received = await this.received(path);
        if (received === null) continue;
      }
      if (!Number.isInteger(received) || received < offset) {
        // The server lost bytes this page no longer holds (they are sealed only once).
        throw new UploadError('broken');
      }
      sent = Math.min(received, end);
    }
    return sent;
  }

  async received(path) {
    try {
      const result = await this.request('GET', path);
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
    if (this.stored.has(id)) return;
    const path = `${API}/${encodeURIComponent(id)}/finish`;
    // A JSON body, like every state-changing API call: the server refuses other content
    // types, which a page on another site could send without asking.
    const result = await this.retry(() => this.request('POST', path, '{}', 'application/json'));
    if (result.status !== 201) throw apiError(result);
  }
}

module.exports = { UploadClient, UploadError };
