CREATE TABLE "billing"."ledger" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing"."ledger_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"server_id" uuid NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"kind" text NOT NULL,
	"billed_ms" bigint NOT NULL,
	"amount" numeric(24, 9) NOT NULL,
	"rate" numeric(24, 9),
	"event_id" uuid,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing"."servers" (
	"server_id" uuid PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"region" text NOT NULL,
	"rate" numeric(24, 9) NOT NULL,
	"open_since" timestamp (3) with time zone,
	"accrued_until" timestamp (3) with time zone,
	"billed_ms" bigint DEFAULT 0 NOT NULL,
	"amount" numeric(24, 9) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing"."transitions" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"server_id" uuid NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"to_state" text NOT NULL,
	"rate" numeric(24, 9) NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ledger_server_idx" ON "billing"."ledger" USING btree ("server_id","id");--> statement-breakpoint
CREATE INDEX "ledger_at_idx" ON "billing"."ledger" USING btree ("at");--> statement-breakpoint
CREATE INDEX "servers_open_idx" ON "billing"."servers" USING btree ("server_id") WHERE "billing"."servers"."open_since" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "transitions_server_idx" ON "billing"."transitions" USING btree ("server_id","at");