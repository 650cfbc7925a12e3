// The User-Agent every request carries. Wikimedia's policy (meta.wikimedia.org/wiki/User-Agent_policy)
// asks for the tool's name and version plus a way to contact its operator; clients without one
// may be blocked. The operator is the person running the scrape, so the contact is theirs.

import { version } from '../../package.json';

export const CONTACT_ENV = 'DEEPFAKE_LAB_CONTACT';

export function userAgent(contact = process.env[CONTACT_ENV]): string {
  const who = contact?.trim() ? contact.trim() : `set ${CONTACT_ENV} to your email or URL`;
  return `deepfake-lab/${version} (educational deepfake course; ${who}) Node.js/${process.versions.node}`;
}
