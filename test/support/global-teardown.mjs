export default async function globalTeardown() {
  await globalThis.__ACCESSWEAVER_PG__?.stop();
}
