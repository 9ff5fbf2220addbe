CREATE SCHEMA IF NOT EXISTS "reaper";
--> statement-breakpoint
CREATE TABLE "reaper"."sweeps" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reaper"."sweeps_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone NOT NULL,
	"dry_run" boolean NOT NULL,
	"candidates" integer NOT NULL,
	"reaped" integer NOT NULL,
	"spared" integer NOT NULL,
	"errors" integer NOT NULL,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "reaper"."watched" (
	"server_id" uuid PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"state_since" timestamp with time zone NOT NULL,
	"exempt" boolean DEFAULT false NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "watched_idle_idx" ON "reaper"."watched" USING btree ("state_since") WHERE "reaper"."watched"."state" = 'stopped' AND "reaper"."watched"."decided_at" IS NULL;