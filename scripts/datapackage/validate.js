#!/usr/bin/env node
'use strict';
// Independent check of a research export (gateway/research): loads
// DIR/datapackage.json with the Frictionless `datapackage` library (pinned
// in package.json, installed by `make deps`) and checks that
//   - the descriptor is valid against its profile (tabular-data-package),
//   - every resource is a valid tabular data resource,
//   - each file's size and sha256 match its `bytes` and `hash`,
//   - each header row is exactly the schema's field names, in order,
//   - every row casts to its Table Schema (types, constraints, primary key)
//     and every foreign key resolves (resource.read({cast, relations})).
// Exit 0 when all holds; otherwise the errors on stderr and exit 1
// (exit 2 when the library is missing or the arguments are wrong).
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

let Package;
try {
  ({ Package } = require('datapackage'));
} catch (err) {
  console.error('validate.js: the datapackage module is missing (' + err.message + '): run make deps');
  process.exit(2);
}

async function validate(dir) {
  const errors = [];
  const dp = await Package.load(path.join(dir, 'datapackage.json'), { basePath: dir });
  if (!dp.valid) dp.errors.forEach((e) => errors.push('descriptor: ' + e.message));
  if (dp.descriptor.profile !== 'tabular-data-package') errors.push('descriptor: profile is not tabular-data-package');
  if (dp.resources.length === 0) errors.push('descriptor: no resources');
  for (const r of dp.resources) {
    const where = 'resource ' + r.name;
    if (!r.valid) r.errors.forEach((e) => errors.push(where + ': ' + e.message));
    if (!r.tabular) errors.push(where + ': not tabular');
    const data = fs.readFileSync(path.join(dir, r.descriptor.path));
    if (r.descriptor.bytes !== data.length) errors.push(where + ': bytes ' + r.descriptor.bytes + ', file has ' + data.length);
    const sum = 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
    if (r.descriptor.hash !== sum) errors.push(where + ': hash ' + r.descriptor.hash + ', file has ' + sum);
    try {
      const rows = await r.read({ cast: true, relations: true });
      const want = JSON.stringify(r.schema.fieldNames);
      if (JSON.stringify(r.headers) !== want) errors.push(where + ': header ' + JSON.stringify(r.headers) + ', schema ' + want);
      console.log(where + ': ' + rows.length + ' rows');
    } catch (err) {
      errors.push(where + ': ' + err.message);
      (err.errors || []).forEach((e) => errors.push(where + ': ' + e.message));
    }
  }
  return errors;
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node validate.js DIR (a directory holding datapackage.json)');
    process.exit(2);
  }
  let errors;
  try {
    errors = await validate(process.argv[2]);
  } catch (err) {
    errors = ['load: ' + err.message];
  }
  if (errors.length > 0) {
    errors.forEach((e) => console.error(e));
    process.exit(1);
  }
  console.log('valid');
}

main();
