import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { readRequirements, type Caller } from '../../auth';
import { applyRemovals, authorizeDocument, stripHiddenTypename } from '../../gateway/authorizeOperation';

const sdl = /* GraphQL */ `
  directive @public on FIELD_DEFINITION | OBJECT
  directive @authenticated on FIELD_DEFINITION | OBJECT
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
  type Query {
    shelf: Shelf @public
    result: Result @public
  }
  type Shelf @public {
    name: String
    books: [Book!]!
  }
  type Book @public {
    title: String!
    price: Int! @requiresScopes(scopes: [["price:read"]])
    note: String @requiresScopes(scopes: [["note:read"]])
  }
  union Result = Book | Shelf
`;
const schema = buildSchema(sdl);
const requirements = readRequirements(parse(sdl));
const member: Caller = { authenticated: true, hasScope: () => false, steppedUp: false };

function authorize(query: string, caller = member) {
  const document = parse(query);
  return authorizeDocument({
    document,
    operation: document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode,
    queryHash: 'hash',
    callerKey: 'member',
    schema,
    requirements,
    caller,
    stepUpMaxAgeSeconds: 900,
  });
}

describe('authorizeDocument', () => {
  it('keeps the document as it is, under its own hash, when the caller may see everything', () => {
    const all = authorize('{ shelf { books { title price } } }', { ...member, hasScope: () => true });
    expect(all.removals).toEqual([]);
    expect(all.queryHash).toBe('hash');
  });

  it("plans a filtered document under another hash, so that no caller reuses another scope set's plan", () => {
    const filtered = authorize('{ shelf { books { title note } } }');
    expect(filtered.queryHash).not.toBe('hash');
    expect(authorize('{ shelf { books { title note } } }', { ...member, hasScope: () => true }).queryHash).toBe('hash');
  });

  it('answers a refused nullable field null with one error per object, siblings intact', () => {
    const { removals } = authorize('{ shelf { books { title note } } }');
    const response = { data: { shelf: { name: null, books: [{ title: 'a' }, { title: 'b' }] } } as Record<string, any> };
    const errors = applyRemovals(response, removals);
    expect(response.data!.shelf.books).toEqual([
      { title: 'a', note: null },
      { title: 'b', note: null },
    ]);
    expect(errors.map((error) => error.path)).toEqual([
      ['shelf', 'books', 0, 'note'],
      ['shelf', 'books', 1, 'note'],
    ]);
    expect(errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
  });

  it('passes the null of a refused non-null field up to the nearest nullable place, as execution does', () => {
    const { removals } = authorize('{ shelf { name books { title price } } }');
    const response = { data: { shelf: { name: 'x', books: [{ title: 'a' }] } } as Record<string, any> };
    applyRemovals(response, removals);
    // price is Int!, a book is Book! and books is [Book!]!: the null reaches shelf, which is nullable.
    expect(response.data).toEqual({ shelf: null });
  });

  it('inlines fragments, keeps __typename where a selection is left empty, and nulls a field only on the type it was asked of', () => {
    const authorized = authorize('query { result { ...B ... on Shelf { name } } } fragment B on Book { note }');
    const text = JSON.stringify(authorized.document);
    expect(text).not.toContain('FragmentDefinition');
    const book = { data: { result: { __gatehouse_typename: 'Book' } } as Record<string, any> };
    expect(applyRemovals(book, authorized.removals)).toHaveLength(1);
    stripHiddenTypename(book.data);
    expect(book.data).toEqual({ result: { note: null } });
    const shelf = { data: { result: { __gatehouse_typename: 'Shelf', name: 'n' } } as Record<string, any> };
    expect(applyRemovals(shelf, authorized.removals)).toHaveLength(0);
    stripHiddenTypename(shelf.data);
    expect(shelf.data).toEqual({ result: { name: 'n' } });
  });

  it('leaves nothing to execute when every root field is refused', () => {
    const anonymous = authorize('{ shelf { books { note } } }', { authenticated: false, hasScope: () => false, steppedUp: false });
    expect(anonymous.empty).toBe(false); // shelf is public: only the note goes
    const refusedRoot = parse('{ shelf { name } }');
    const noRule = authorizeDocument({
      document: refusedRoot,
      operation: refusedRoot.definitions[0] as OperationDefinitionNode,
      queryHash: 'h',
      callerKey: 'x',
      schema,
      requirements: new Map(),
      caller: member,
      stepUpMaxAgeSeconds: 900,
    });
    expect(noRule.empty).toBe(true); // no requirement known: deny by default
    expect(noRule.removals[0].error.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'no_rule' });
  });
});
