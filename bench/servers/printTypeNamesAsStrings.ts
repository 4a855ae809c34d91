/**
 * A compatibility shim for @mercuriusjs/gateway 5.2.0 on graphql 16.15, in the benchmark's mercurius process only
 * (import it before the gateway). The gateway's entity queries put a GraphQL type object where the document wants a
 * type name (lib/gateway/make-resolver.js, the inline fragment's `value: returnType`): older printers wrote it through a
 * template string (its name), graphql 16.15's printer throws ("value.includes is not a function"), and every `_entities`
 * call fails. Here graphql's `print` writes such a Name as String(value), its type name. The gateway caches the
 * documents it prints per query, so the extra walk is made once per query, not per request.
 */
import { visit, type ASTNode } from 'graphql';

// The module object itself (graphql's package entry reads `print` from it on each access), not a namespace copy.
const printer = require('graphql/language/printer') as { print: (ast: ASTNode) => string };
const print = printer.print;
printer.print = (ast) =>
  print(visit(ast, { Name: (node) => (typeof node.value === 'string' ? undefined : { ...node, value: String(node.value) }) }));
