import { MAX_INSTANCE_IDS } from "@cloudsim/shared";
import { instanceIdMalformed, invalidParameterCombination } from "../errors.ts";
import { type Ec2Params, int, list, str } from "../query.ts";

const wellFormed = (id: string) => /^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id);

/** Instance ids as EC2 has them (17 hex digits, or 8 for old ones); anything else is malformed. */
export function instanceIds(params: Ec2Params, name = "InstanceId", max = MAX_INSTANCE_IDS): string[] {
  const ids = list(params, name, { max });
  for (const id of ids) if (!wellFormed(id)) throw instanceIdMalformed(id);
  return ids;
}

/** The one InstanceId of an action on a single instance. */
export function instanceIdParam(params: Ec2Params): string {
  const id = str(params, "InstanceId", { required: true });
  if (!wellFormed(id)) throw instanceIdMalformed(id);
  return id;
}

/** MaxResults, 5 to `max`, which EC2 does not allow together with instance ids. */
export function maxResults(params: Ec2Params, ids: readonly string[], max = 1000): number | undefined {
  const n = int(params, "MaxResults", { min: 5, max });
  if (n !== undefined && ids.length > 0)
    throw invalidParameterCombination(
      "The parameter instancesSet cannot be used with the parameter maxResults",
    );
  return n;
}

export function requiredIds(params: Ec2Params): string[] {
  const ids = instanceIds(params);
  if (ids.length === 0) throw invalidParameterCombination("No instances specified");
  return ids;
}
