// The one HPKE suite sealdrop uses (docs/FORMAT.md §9), re-exported from the `hpke` package
// as an ES module so that the bundler keeps only these (its other KEMs and AEADs stay out).
export { AEAD_AES_256_GCM, CipherSuite, KDF_HKDF_SHA256, KEM_DHKEM_X25519_HKDF_SHA256 } from 'hpke';
