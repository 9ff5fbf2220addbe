ALTER TABLE "reaper"."watched" ADD COLUMN "tenant_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "reaper"."watched" ADD COLUMN "outcome" text;