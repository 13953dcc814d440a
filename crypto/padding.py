"""Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
Communication with PURBs", PETS 2019), with a floor so that short messages all look alike."""

from __future__ import annotations

MIN_PADDED_LENGTH = 2048


def padme(length: int) -> int:
    """The smallest Padmé length >= length: at most 12% larger, leaking O(log log L) bits."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # floor(log2 L)
    size_bits = exponent.bit_length()  # floor(log2 E) + 1
    mask = (1 << (exponent - size_bits)) - 1
    return (length + mask) & ~mask


def padded_length(content_length: int) -> int:
    """The sealed plaintext's total length for content_length bytes of records."""
    return padme(max(content_length, MIN_PADDED_LENGTH))
