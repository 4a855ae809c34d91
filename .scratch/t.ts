import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
const a =
  parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy", "@composeDirective"])
  @link(url: "https://gatehouse.dev/authorization/v0.1", import: ["@public"]) @composeDirective(name: "@public")
directive @public on FIELD_DEFINITION | OBJECT
type Query { a: A @requiresScopes(scopes: [["x:read"]]) b: Int @public }
type A @key(fields: "id") @authenticated { id: ID! @public n: Int @policy(policies: [["owner"], ["scope:x:all"]]) }
`);
const b =
  parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy", "@composeDirective"])
  @link(url: "https://gatehouse.dev/authorization/v0.1", import: ["@public"]) @composeDirective(name: "@public")
directive @public on FIELD_DEFINITION | OBJECT
type A @key(fields: "id") { id: ID! @public m: Int @requiresScopes(scopes: [["y:read"]]) }
`);
const r = composeServices([
  { name: 'a', url: 'http://a', typeDefs: a },
  { name: 'b', url: 'http://b', typeDefs: b },
]);
console.log(r.errors?.map((e) => e.message) ?? r.supergraphSdl);
