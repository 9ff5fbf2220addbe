CREATE TABLE "lifecycle"."volumes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"volume_id" text GENERATED ALWAYS AS ('vol-' || right(replace(id::text, '-', ''), 17)) STORED NOT NULL,
	"tenant_id" text NOT NULL,
	"region" text NOT NULL,
	"availability_zone" text NOT NULL,
	"size_gib" integer NOT NULL,
	"type" text NOT NULL,
	"iops" integer,
	"throughput" integer,
	"encrypted" boolean DEFAULT false NOT NULL,
	"state" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"server_id" uuid,
	"device" text,
	"attachment_state" text,
	"attach_time" timestamp with time zone,
	"delete_on_termination" boolean DEFAULT false NOT NULL,
	"instance_ended" boolean DEFAULT false NOT NULL,
	"due_at" timestamp with time zone,
	"pending_request_id" text,
	"client_token" text,
	"request_hash" text
);
--> statement-breakpoint
ALTER TABLE "lifecycle"."volumes" ADD CONSTRAINT "volumes_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "lifecycle"."servers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_volume_id_key" ON "lifecycle"."volumes" USING btree ("volume_id");--> statement-breakpoint
CREATE INDEX "volumes_tenant_idx" ON "lifecycle"."volumes" USING btree ("tenant_id","region","id");--> statement-breakpoint
CREATE INDEX "volumes_due_idx" ON "lifecycle"."volumes" USING btree ("due_at") WHERE "lifecycle"."volumes"."due_at" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_attachment_key" ON "lifecycle"."volumes" USING btree ("server_id","device") WHERE "lifecycle"."volumes"."server_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "volumes_tags_idx" ON "lifecycle"."volumes" USING gin ("tags");--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_client_token_key" ON "lifecycle"."volumes" USING btree ("tenant_id","region","client_token") WHERE "lifecycle"."volumes"."client_token" IS NOT NULL;--> statement-breakpoint
-- When an instance ends (terminated, or its launch failed), the volumes attached to it are
-- released: the durable timer deletes those with delete_on_termination and detaches the rest,
-- from the time it ended (issue 32).
CREATE FUNCTION "lifecycle"."release_volumes_of_ended_server"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE lifecycle.volumes SET instance_ended = true, due_at = NEW.updated_at
  WHERE server_id = NEW.id AND NOT instance_ended;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "servers_release_volumes" AFTER UPDATE OF state ON "lifecycle"."servers"
  FOR EACH ROW WHEN (NEW.state IN ('terminated', 'error') AND OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION "lifecycle"."release_volumes_of_ended_server"();
