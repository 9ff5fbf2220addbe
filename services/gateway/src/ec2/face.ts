import { ALL_TENANTS, AppError, type Bus, type Clock, DEFAULT_TENANT } from "@cloudsim/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Caller } from "../auth.ts";
import { addressActions } from "./actions/addresses.ts";
import { catalogueActions } from "./actions/catalogue.ts";
import { instanceAttributeActions } from "./actions/instance-attributes.ts";
import { instanceActions } from "./actions/instances.ts";
import { keyPairActions } from "./actions/key-pairs.ts";
import { networkInterfaceActions } from "./actions/network-interfaces.ts";
import { securityGroupActions } from "./actions/security-groups.ts";
import { subnetActions } from "./actions/subnets.ts";
import { tagActions } from "./actions/tags.ts";
import { volumeActions } from "./actions/volumes.ts";
import { vpcActions } from "./actions/vpcs.ts";
import { type Ec2AuthConfig, ec2Authenticator } from "./caller.ts";
import type { Ec2Action, Ec2Config } from "./context.ts";
import { Ec2Error, ec2ErrorOf, invalidAction } from "./errors.ts";
import { parseForm, str } from "./query.ts";
import { stsAnswer } from "./sts.ts";
import { errorXml, successXml } from "./xml.ts";

/** Every action the face answers; any other is InvalidAction. */
const actions: Record<string, Ec2Action> = {
  ...instanceActions,
  ...tagActions,
  ...catalogueActions,
  ...keyPairActions,
  ...vpcActions,
  ...subnetActions,
  ...securityGroupActions,
  ...addressActions,
  ...networkInterfaceActions,
  ...volumeActions,
  ...instanceAttributeActions,
};

const XML = "text/xml;charset=UTF-8";

/** Whether a request is for the EC2 face: a form POST to `/` (the REST API has no route there). */
export const isEc2Request = (request: FastifyRequest) =>
  request.method === "POST" && (request.url === "/" || request.url.startsWith("/?"));

function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown) {
  const framework = err as FastifyError;
  const known = err instanceof Ec2Error || err instanceof AppError;
  // The framework's own refusals (body too large, another media type) keep their 4xx meaning.
  const error =
    !known && framework.statusCode && framework.statusCode < 500
      ? new Ec2Error("InvalidParameterValue", framework.message)
      : ec2ErrorOf(err);
  if (error.status >= 500) request.log.error({ err }, "EC2 request failed");
  if (error.code === "RequestLimitExceeded" && err instanceof AppError)
    reply.header("retry-after", String(err.details.retry_after_seconds ?? 1));
  return reply
    .code(error.status)
    .type(XML)
    .send(errorXml(error.code, error.message, String(request.id)));
}

/**
 * The EC2 Query API on the gateway's own port: `POST /` with `Action=…&Version=2016-11-15`,
 * answered in EC2's XML. It speaks to the same NATS contracts as the REST routes, so a server
 * is one server whichever API made it. `limit` is the REST API's per-key rate limit; `clock`
 * the time of simulated things (instances' times; SigV4's request time stays real).
 */
export function ec2Face(
  bus: Bus,
  config: Ec2AuthConfig & Ec2Config,
  limit: (caller: Caller, reply: FastifyReply) => void,
  clock: Clock,
) {
  return async (app: FastifyInstance) => {
    const authenticator = ec2Authenticator(bus, config);
    app.addHook("onClose", async () => authenticator.close());
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) =>
      done(null, body),
    );
    app.setErrorHandler((err, request, reply) => sendError(request, reply, err));

    app.post("/", { schema: { hide: true } }, async (request, reply) => {
      const body = typeof request.body === "string" ? request.body : "";
      const { caller, region, service } = await authenticator.authenticate(request, body);
      limit(caller, reply);
      const params = parseForm(body);
      const name = str(params, "Action", { required: true, max: 100 });
      if (service === "sts")
        return reply
          .code(200)
          .type(XML)
          .send(stsAnswer(name, caller, String(request.id)));
      const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
      if (!action) throw invalidAction(name);
      request.log.info({ ec2_action: name, tenant_id: caller.tenantId }, "EC2 request");
      const members = await action({
        params,
        bus,
        clock,
        config,
        requestId: String(request.id),
        host: request.headers.host ?? "localhost",
        region,
        scope: caller.tenantId ?? ALL_TENANTS,
        owner: caller.tenantId ?? DEFAULT_TENANT,
      });
      reply.header("x-amzn-requestid", request.id);
      return reply
        .code(200)
        .type(XML)
        .send(successXml(name, String(request.id), members));
    });
  };
}
