// Ceiling: fastify → NATS request → responder (→ Postgres) → reply. GET /echo skips Postgres.
import { connect } from "@nats-io/transport-node";
import Fastify from "fastify";

const [port, natsUrl] = process.argv.slice(2);
const nc = await connect({ servers: natsUrl });
const app = Fastify();
app.post("/orders", async (request) =>
  (await nc.request("ceiling.insert", JSON.stringify(request.body), { timeout: 5000 })).json(),
);
app.get("/echo", async () => (await nc.request("ceiling.echo", "{}", { timeout: 5000 })).json());
await app.listen({ port: Number(port), host: "127.0.0.1" });
console.log("ready");
