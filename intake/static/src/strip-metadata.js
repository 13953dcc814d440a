'use strict';
// Removes location and device details from photos before they are sealed: the place a photo
// was taken (EXIF GPS), the camera or phone (make, model, serial), dates, XMP and IPTC, and
// thumbnails that carry their own copy of all this. Only the container is rewritten: the image
// data is copied byte for byte, never decoded or re-encoded. Each format is read in one pass
// from start to end (no backtracking: linear in the file's size), by its magic bytes, never by
// the file's name or the type the browser guessed.
//
//   JPEG: keeps the image segments (quantisation and Huffman tables, frame, scans), JFIF, the
//         ICC colour profile and Adobe's colour transform; drops every other APPn segment
//         (EXIF, XMP, MPF previews, IPTC, maker data), comments, and anything after the end
//         of the image (phones append more pictures and their EXIF there). The EXIF
//         orientation alone is written back, so the photo is not shown turned on its side.
//   PNG:  drops eXIf, tEXt, zTXt, iTXt (XMP) and tIME chunks, and anything after IEND.
//   WebP: drops the EXIF and XMP chunks and clears their flags in VP8X.
//   MP4/MOV videos: see below (metadata boxes renamed "free" in place).
// Other files (HEIC, documents) come back unchanged, with ok: false for the page to
// say so. A file that claims to be one of these formats but is malformed throws StripError.

class StripError extends Error {
  constructor(name) {
    super(`could not read ${name}`);
    this.code = 'strip';
    this.fileName = name;
  }
}

function u16be(bytes, at) {
  return (bytes[at] << 8) | bytes[at + 1];
}

function u32be(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

function u32le(bytes, at) {
  return bytes[at] + (bytes[at + 1] << 8) + (bytes[at + 2] << 16) + ((bytes[at + 3] << 24) >>> 0);
}

function startsWith(bytes, at, ascii) {
  if (at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i += 1) {
    if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

// --- JPEG ----------------------------------------------------------------------------------

// The EXIF orientation (1-8) in an APP1 segment's body, or 0 if it has none.
function exifOrientation(bytes, start, end) {
  const tiff = start + 6; // after "Exif\0\0"
  if (!startsWith(bytes, start, 'Exif\0\0') || tiff + 8 > end) return 0;
  const little = startsWith(bytes, tiff, 'II');
  if (!little && !startsWith(bytes, tiff, 'MM')) return 0;
  const read16 = (at) => (little ? bytes[at] | (bytes[at + 1] << 8) : u16be(bytes, at));
  const read32 = (at) => (little ? u32le(bytes, at) : u32be(bytes, at));
  const ifd = tiff + read32(tiff + 4);
  if (ifd + 2 > end) return 0;
  const count = read16(ifd);
  for (let i = 0; i < count; i += 1) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return 0;
    if (read16(entry) === 0x0112) {
      const value = read16(entry + 8);
      return value >= 1 && value <= 8 ? value : 0;
    }
  }
  return 0;
}

// A minimal EXIF segment holding only the orientation.
function orientationSegment(orientation) {
  const body = [
    0x45, 0x78, 0x69, 0x66, 0, 0, // "Exif\0\0"
    0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, // big-endian TIFF, first IFD at 8
    0, 1, // one entry
    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, // Orientation, SHORT, 1 value
    0, 0, 0, 0, // no next IFD
  ];
  const length = body.length + 2;
  return new Uint8Array([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

function keepJpegSegment(marker, bytes, start, end) {
  if (marker === 0xe0) return startsWith(bytes, start, 'JFIF\0'); // not JFXX thumbnails
  if (marker === 0xe2) return startsWith(bytes, start, 'ICC_PROFILE\0');
  if (marker === 0xee) return startsWith(bytes, start, 'Adobe');
  if (marker >= 0xe1 && marker <= 0xef) return false; // EXIF, XMP, MPF, IPTC, maker data
  if (marker === 0xfe) return false; // comment
  return end >= start;
}

function stripJpeg(bytes, name) {
  const parts = [bytes.subarray(0, 2)]; // SOI
  let orientation = 0;
  let at = 2;
  for (;;) {
    if (at + 2 > bytes.length || bytes[at] !== 0xff) throw new StripError(name);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      parts.push(bytes.subarray(at, at + 2)); // EOI: whatever follows is dropped
      break;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      parts.push(bytes.subarray(at, at + 2));
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) throw new StripError(name);
    const end = at + 2 + u16be(bytes, at + 2);
    if (end > bytes.length || end < at + 4) throw new StripError(name);
    if (marker === 0xe1 && orientation === 0) orientation = exifOrientation(bytes, at + 4, end);
    if (keepJpegSegment(marker, bytes, at + 4, end)) parts.push(bytes.subarray(at, end));
    at = end;
    if (marker === 0xda) {
      // Entropy-coded data: up to the next marker that is not stuffing (FF00) or a restart.
      let next = at;
      for (;;) {
        next = bytes.indexOf(0xff, next);
        if (next < 0 || next + 1 >= bytes.length) throw new StripError(name);
        const following = bytes[next + 1];
        if (following === 0 || following === 0xff || (following >= 0xd0 && following <= 0xd7)) {
          next += following === 0xff ? 1 : 2;
          continue;
        }
        break;
      }
      parts.push(bytes.subarray(at, next));
      at = next;
    }
  }
  if (orientation > 1) parts.splice(1, 0, orientationSegment(orientation));
  return parts;
}

// --- PNG -----------------------------------------------------------------------------------

const PNG_SIGNATURE = '\x89PNG\r\n\x1a\n';
const PNG_DROPPED = new Set(['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME']);

function stripPng(bytes, name) {
  const parts = [bytes.subarray(0, 8)];
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw new StripError(name);
    const end = at + 12 + u32be(bytes, at);
    if (end > bytes.length) throw new StripError(name);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!PNG_DROPPED.has(type)) parts.push(bytes.subarray(at, end));
    at = end;
    if (type === 'IEND') return parts;
  }
}

// --- WebP ----------------------------------------------------------------------------------

function stripWebp(bytes, name) {
  const end = 8 + u32le(bytes, 4);
  if (end > bytes.length || end < 12) throw new StripError(name);
  const kept = [];
  let at = 12;
  while (at < end) {
    if (at + 8 > end) throw new StripError(name);
    const size = u32le(bytes, at + 4);
    const next = at + 8 + size + (size % 2);
    if (next > end) throw new StripError(name);
    const type = String.fromCharCode(...bytes.subarray(at, at + 4));
    if (type === 'VP8X' && size >= 1) {
      const copy = bytes.slice(at, next);
      copy[8] &= ~(0x08 | 0x04); // the EXIF and XMP flags
      kept.push(copy);
    } else if (type !== 'EXIF' && type !== 'XMP ') {
      kept.push(bytes.subarray(at, next));
    }
    at = next;
  }
  const total = kept.reduce((sum, part) => sum + part.length, 4);
  const header = bytes.slice(0, 12);
  header[4] = total & 0xff;
  header[5] = (total >> 8) & 0xff;
  header[6] = (total >> 16) & 0xff;
  header[7] = (total >>> 24) & 0xff;
  return [header, ...kept];
}

// --- MP4 / MOV -----------------------------------------------------------------------------
// A video's location and device details live in user data and metadata boxes of its movie
// box (moov/udta: ©xyz, ©mak, ©mod; moov/meta: Apple's location and model keys; the same
// inside each track). Each of them is renamed "free" where it is, so no size or offset changes
// and the media data is not touched; only the movie box is read (a few megabytes at most).

const VIDEO_BRANDS = /^(isom|iso[2-9]|mp4[12]|avc1|qt {2}|M4V |M4A |3gp[4-9]|3g2[abc]|MSNV|dash)$/;
const MAX_MOVIE_BOX = 64 << 20;

function boxAt(bytes, at, end) {
  if (at + 8 > end) return null;
  let size = u32be(bytes, at);
  let header = 8;
  if (size === 1) {
    if (at + 16 > end) return null;
    size = u32be(bytes, at + 8) * 2 ** 32 + u32be(bytes, at + 12);
    header = 16;
  } else if (size === 0) {
    size = end - at;
  }
  if (size < header || at + size > end) return null;
  return { type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), start: at, header, end: at + size };
}

// Renames the metadata boxes among the children of [at, end), descending into tracks.
function freeMetadata(bytes, at, end, name) {
  while (at < end) {
    const box = boxAt(bytes, at, end);
    if (box === null) throw new StripError(name);
    if (box.type === 'udta' || box.type === 'meta') {
      bytes.set([0x66, 0x72, 0x65, 0x65], box.start + 4); // "free"
    } else if (box.type === 'trak') {
      freeMetadata(bytes, box.start + box.header, box.end, name);
    }
    at = box.end;
  }
}

async function readSlice(file, start, end) {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

// The video with its movie box's metadata renamed, or null if it is not an MP4/MOV video.
async function stripVideo(file) {
  const head = await readSlice(file, 0, 16);
  if (!startsWith(head, 4, 'ftyp') || !VIDEO_BRANDS.test(String.fromCharCode(...head.subarray(8, 12)))) {
    return null;
  }
  let at = 0;
  while (at < file.size) {
    const header = await readSlice(file, at, Math.min(file.size, at + 16));
    const size = header.length >= 8 ? boxSizeFrom(header, file.size - at) : null;
    if (size === null) throw new StripError(file.name);
    if (startsWith(header, 4, 'moov')) {
      if (size > MAX_MOVIE_BOX) throw new StripError(file.name);
      const movie = await readSlice(file, at, at + size);
      const inner = boxAt(movie, 0, movie.length);
      if (inner === null) throw new StripError(file.name);
      freeMetadata(movie, inner.header, movie.length, file.name);
      const parts = [file.slice(0, at), movie, file.slice(at + size)];
      return new File(parts, file.name, { type: file.type, lastModified: 0 });
    }
    at += size;
  }
  throw new StripError(file.name); // a video without a movie box cannot be played anyway
}

// A top-level box's size from its first 16 bytes (which boxAt cannot check against the end).
function boxSizeFrom(header, left) {
  let size = u32be(header, 0);
  if (size === 1 && header.length < 16) return null;
  if (size === 1) size = u32be(header, 8) * 2 ** 32 + u32be(header, 12);
  else if (size === 0) size = left;
  return size >= 8 && size <= left ? size : null;
}

// --- files ---------------------------------------------------------------------------------

function kindOf(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'jpeg';
  }
  if (startsWith(bytes, 0, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WEBP')) return 'webp';
  return null;
}

// The pieces of a cleaned copy of bytes (an Uint8Array), or null if it is not a photo this
// module knows.
function stripBytes(bytes, name = 'file') {
  const kind = kindOf(bytes);
  if (kind === 'jpeg') return stripJpeg(bytes, name);
  if (kind === 'png') return stripPng(bytes, name);
  if (kind === 'webp') return stripWebp(bytes, name);
  return null;
}

// A File without location and device details, and whether it was a photo that could be
// cleaned ({file, cleaned}). Reads only the first bytes of files that are not photos.
async function stripFile(file) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  if (kindOf(head) === null) {
    const video = await stripVideo(file);
    return video === null ? { file, cleaned: false } : { file: video, cleaned: true };
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const parts = stripBytes(bytes, file.name);
  const options = { type: file.type, lastModified: 0 };
  return { file: new File(parts, file.name, options), cleaned: true };
}

module.exports = { stripBytes, stripFile, StripError };
