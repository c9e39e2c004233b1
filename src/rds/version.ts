/**
 * Semantic version of modules/rds, for callers who pin it. CHANGELOG.md says what changed for callers in each
 * release; its latest release heading must name this version (a test checks it).
 *
 * - major: a caller must change something: an input removed, renamed or newly required, an output removed, a
 *   resource address moved (state would need `moved` blocks), the provider range narrowed, or a behaviour that needs
 *   action on their side (a policy that denies what it allowed);
 * - minor: something new a caller may use and need not: an optional input, an output, a resource, an alarm;
 * - patch: fixes that change neither the interface nor what a caller must do.
 */
export const MODULE_VERSION = '1.1.0';
