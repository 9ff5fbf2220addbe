ALTER TABLE "billing"."servers" ADD COLUMN "tenant_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
CREATE INDEX "servers_tenant_idx" ON "billing"."servers" USING btree ("tenant_id");