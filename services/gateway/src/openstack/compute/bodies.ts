import { MAX_INSTANCE_SECURITY_GROUPS, type ServerAction } from "@cloudsim/shared";
import { z } from "zod";
import { invalidField, type OsError } from "../errors.ts";

const Count = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
]);

/** POST /servers: the fields cloudsim reads, and bounds on the ones it accepts and ignores. */
export const CreateBody = z.object({
  server: z
    .object({
      name: z.string().max(255),
      imageRef: z.string().max(1024),
      flavorRef: z.union([z.string().max(1024), z.number().int()]).transform(String),
      min_count: Count.optional(),
      max_count: Count.optional(),
      metadata: z.record(z.string().max(255), z.string().max(255)).optional(),
      availability_zone: z.string().max(255).optional(),
      networks: z.union([z.enum(["auto", "none"]), z.array(z.object({}).loose()).max(50)]).optional(),
      key_name: z.string().min(1).max(255).nullable().optional(),
      security_groups: z
        .array(z.object({ name: z.string().min(1).max(255) }).loose())
        .max(MAX_INSTANCE_SECURITY_GROUPS)
        .optional(),
      adminPass: z.string().max(255).optional(),
      accessIPv4: z.ipv4("accessIPv4 is not a valid IPv4 address").optional(),
      accessIPv6: z.ipv6("accessIPv6 is not a valid IPv6 address").optional(),
      return_reservation_id: z.boolean().optional(),
      user_data: z.string().max(65_535).optional(),
      description: z.string().max(255).nullable().optional(),
    })
    .loose(),
});
export type CreateRequest = z.infer<typeof CreateBody>["server"];

/** POST /servers/{id}/action: the body of each action the face runs, by its key. */
export const ActionBodies = {
  // Nova has no schema for these two: null, {} and anything else are the same request.
  "os-stop": z.unknown(),
  "os-start": z.unknown(),
  reboot: z.object({
    type: z
      .string()
      .transform((t) => t.toUpperCase())
      .pipe(z.enum(["SOFT", "HARD"])),
  }),
};
export type ActionKey = keyof typeof ActionBodies;

/** The lifecycle action each Nova action is, and Nova's name for it in a 409. */
export const novaActionNames: Record<ActionKey, { action: ServerAction; nova: string }> = {
  "os-stop": { action: "stop", nova: "stop" },
  "os-start": { action: "start", nova: "start" },
  reboot: { action: "reboot", nova: "reboot" },
};

/** The first zod issue, as Nova names a field that does not validate. */
export function zodField(error: z.ZodError, root: string): OsError {
  const issue = error.issues[0];
  const field = [root, ...(issue?.path ?? [])].filter((p) => p !== "").join("/");
  return invalidField(field, issue?.message ?? "invalid");
}
