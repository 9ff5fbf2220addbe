CREATE SCHEMA IF NOT EXISTS "lifecycle";
--> statement-breakpoint
CREATE TABLE "lifecycle"."idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"request_hash" text NOT NULL,
	"server_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lifecycle"."server_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lifecycle"."server_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"server_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"message" text NOT NULL,
	"from_state" text,
	"to_state" text,
	"actor" text NOT NULL,
	"request_id" text,
	"trace_id" text
);
--> statement-breakpoint
CREATE TABLE "lifecycle"."servers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"ip_address" "inet",
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"running_since" timestamp with time zone,
	"due_at" timestamp with time zone,
	"pending_request_id" text,
	"version" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lifecycle"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "lifecycle"."servers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lifecycle"."server_events" ADD CONSTRAINT "server_events_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "lifecycle"."servers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "server_events_server_idx" ON "lifecycle"."server_events" USING btree ("server_id","id");--> statement-breakpoint
CREATE INDEX "servers_due_idx" ON "lifecycle"."servers" USING btree ("due_at") WHERE "lifecycle"."servers"."due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "servers_region_idx" ON "lifecycle"."servers" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "servers_type_idx" ON "lifecycle"."servers" USING btree ("type","id");--> statement-breakpoint
CREATE INDEX "servers_state_idx" ON "lifecycle"."servers" USING btree ("state","id");