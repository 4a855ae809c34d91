/**
 * @packageDocumentation
 * Gatehouse's shared auth library: the only code that touches tokens and signatures. Import from here only.
 */
export * from './errors';
export * from './authorization/roleTable';
export * from './authorization/requirements';
export * from './tokens/issueAccessToken';
export * from './tokens/createJwksCache';
export * from './tokens/claims';
export * from './tokens/verifyAccessToken';
export * from './tokens/signingKeys';
export * from './tokens/refreshCookie';
export * from './context/contextToken';
export * from './shield/rules';
export * from './devSecrets';
export * from './revocation/revocationEvents';
export * from './revocation/createMemoryRevocationBus';
export * from './revocation/createRedisRevocationBus';
export * from './revocation/createRevocationSet';
export * from './crypto/createSecretBox';
export * from './tokens/externalClaims';
export * from './tracing/tracing';
