import { invalidParameterValue } from "./errors.ts";
import { type Ec2Params, str, structs, tags } from "./query.ts";

/**
 * The tags a create action's TagSpecification.N give the resource it makes: those of the
 * specifications whose ResourceType is `resourceType`; another type is refused by name.
 */
export function tagSpecifications(params: Ec2Params, resourceType: string): Record<string, string> {
  const tagged: Record<string, string> = {};
  for (const spec of structs(params, "TagSpecification", { max: 10 })) {
    const type = str(spec, "ResourceType", { required: true });
    if (type !== resourceType)
      throw invalidParameterValue(
        `${spec.scope}.ResourceType`,
        type,
        `This action tags a ${resourceType} only.`,
      );
    for (const tag of tags(spec, "Tag")) tagged[tag.key] = tag.value ?? "";
  }
  return tagged;
}
