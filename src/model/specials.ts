/** The fixed order of special-token roles, so that every text listing them lists them alike. */

import { SPECIAL_ROLES } from "./model.js";

/** Roles in the order the reference models write them (the model's list of roles); any other role follows, sorted. */
export const SPECIAL_ORDER: readonly string[] = SPECIAL_ROLES;

/** The roles of `special` in `SPECIAL_ORDER`, other roles after them in code-unit order. */
export function specialRoles(special: Record<string, number>): string[] {
  const rank = (role: string): number => {
    const i = SPECIAL_ORDER.indexOf(role);
    return i < 0 ? SPECIAL_ORDER.length : i;
  };
  return Object.keys(special).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
