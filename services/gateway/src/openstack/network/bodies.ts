import { z } from "zod";
import { neutronBadRequest } from "./errors.ts";

/**
 * Neutron's request bodies: the fields cloudsim reads, bounds on the ones it takes and ignores
 * (admin_state_up, mtu, description, ...), and a 400 naming the first field that does not fit.
 */

const Name = z.string().max(255);
const Description = z.string().max(255).optional();

export const NetworkCreate = z.object({
  network: z
    .object({
      name: Name.optional(),
      description: Description,
      admin_state_up: z.boolean().optional(),
      port_security_enabled: z.boolean().optional(),
      mtu: z.number().int().optional(),
      shared: z.literal(false, "cloudsim's networks are each one project's: shared must be false").optional(),
      "router:external": z
        .literal(false, "the public network is cloudsim's own: router:external must be false")
        .optional(),
    })
    .loose(),
});

export const NetworkUpdate = z.object({
  network: z.object({ name: Name.optional(), description: Description }).loose(),
});

export const SubnetCreate = z.object({
  subnet: z
    .object({
      network_id: z.string().min(1).max(64),
      cidr: z.string().max(64, "cidr is required: cloudsim has no subnet pools"),
      ip_version: z
        .union([z.literal(4), z.literal("4")], "cloudsim's subnets are IPv4: ip_version must be 4")
        .optional(),
      name: Name.optional(),
      description: Description,
      enable_dhcp: z
        .literal(true, "cloudsim's subnets always hand out addresses: enable_dhcp must be true")
        .optional(),
      gateway_ip: z.string().max(64).nullable().optional(),
      dns_nameservers: z.array(z.string().max(64)).max(5).optional(),
      allocation_pools: z
        .array(z.object({ start: z.string(), end: z.string() }))
        .max(1)
        .optional(),
      host_routes: z.array(z.unknown()).max(0, "cloudsim's subnets have no host routes").optional(),
    })
    .loose(),
});

export const SubnetUpdate = z.object({
  subnet: z.object({ name: Name.optional(), description: Description }).loose(),
});

export const SecurityGroupCreate = z.object({
  security_group: z
    .object({ name: z.string().min(1).max(255), description: z.string().max(255).optional() })
    .loose(),
});

const Port = z.number().int().min(-1).max(65535).nullable().optional();

export const RuleCreate = z.object({
  security_group_rule: z
    .object({
      security_group_id: z.string().min(1).max(64),
      direction: z.enum(["ingress", "egress"]),
      ethertype: z.enum(["IPv4", "IPv6"]).optional(),
      protocol: z
        .union([z.string().max(16), z.number().int().min(0).max(255)])
        .nullable()
        .optional(),
      port_range_min: Port,
      port_range_max: Port,
      remote_ip_prefix: z.string().max(64).nullable().optional(),
      remote_group_id: z.string().max(64).nullable().optional(),
      description: z.string().max(255).nullable().optional(),
    })
    .loose(),
});

export const FloatingIpCreate = z.object({
  floatingip: z
    .object({
      floating_network_id: z.string().min(1).max(64),
      port_id: z.string().max(64).nullable().optional(),
      fixed_ip_address: z.string().max(64).nullable().optional(),
      floating_ip_address: z.string().max(64).optional(),
      description: Description,
    })
    .loose(),
});

export const FloatingIpUpdate = z.object({
  floatingip: z
    .object({
      port_id: z.string().max(64).nullable(),
      fixed_ip_address: z.string().max(64).nullable().optional(),
    })
    .loose(),
});

/** The body as `schema` reads it; else Neutron's 400 naming the field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") || "body";
  throw neutronBadRequest(`Invalid input for ${field}. Reason: ${issue?.message ?? "invalid"}.`);
}
