/** Typing help for the rule families: a record of rules keyed by primitive name. */
import type { PrimName } from "@wax/tracer";
import type { LowerRules } from "../context";

/**
 * A family's share of the lowering table, with the names inferred from its keys (each rule
 * is checked against its own primitive's params).
 */
export function family<K extends PrimName>(rules: LowerRules<K>): LowerRules<K> {
  return rules;
}
