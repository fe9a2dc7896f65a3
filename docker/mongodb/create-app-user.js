// The mongodb-init one-shot service (docker-compose.yml), run by mongosh.
// MongoDB creates its root user from MONGO_INITDB_ROOT_USERNAME/PASSWORD on its
// first start. As that user, this creates the platform's own user in the admin
// database, with readWrite on MONGO_DB only, or updates its password and roles
// when it exists: rerunning it is how a changed MONGO_PASSWORD takes effect.
// Passwords come from the environment and are never printed.
const env = process.env;
for (const name of ["MONGO_ROOT_USERNAME", "MONGO_ROOT_PASSWORD", "MONGO_USERNAME", "MONGO_PASSWORD"]) {
  if (!env[name]) {
    print(`mongodb-init: ${name} is not set (see .env.example)`);
    quit(1);
  }
}
for (const name of ["MONGO_ROOT_PASSWORD", "MONGO_PASSWORD"]) {
  if (env[name].startsWith("change-me")) {
    print(`mongodb-init: ${name} is still the placeholder from .env.example; set a real password in .env`);
    quit(1);
  }
}
const host = env.MONGO_HOST || "mongodb:27017";
const database = env.MONGO_DB || "ind320";

// The image's first start runs a temporary server that listens on localhost only.
let admin = null;
for (let attempt = 1; attempt <= 60 && admin === null; attempt++) {
  try {
    const candidate = new Mongo(`mongodb://${host}/`).getDB("admin");
    const result = candidate.auth(env.MONGO_ROOT_USERNAME, env.MONGO_ROOT_PASSWORD);
    if (!result || result.ok !== 1) {
      throw new Error("authentication failed");
    }
    admin = candidate;
  } catch (error) {
    if (attempt === 60) {
      print(`mongodb-init: could not log in to ${host} as '${env.MONGO_ROOT_USERNAME}': ${error.message}`);
      quit(1);
    }
    sleep(2000);
  }
}

const roles = [{ role: "readWrite", db: database }];
if (admin.getUser(env.MONGO_USERNAME)) {
  admin.updateUser(env.MONGO_USERNAME, { pwd: env.MONGO_PASSWORD, roles });
  print(`mongodb-init: user '${env.MONGO_USERNAME}' updated (readWrite on ${database})`);
} else {
  admin.createUser({ user: env.MONGO_USERNAME, pwd: env.MONGO_PASSWORD, roles });
  print(`mongodb-init: user '${env.MONGO_USERNAME}' created (readWrite on ${database})`);
}
