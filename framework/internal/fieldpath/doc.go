// Package fieldpath is the one parser and matcher for response paths, the
// locations that spec rules (ignore, tolerance) and reported differences
// name.
//
// A body path starts with $ and continues with any of:
//
//	.name          an object member whose name is an identifier ([A-Za-z_][A-Za-z0-9_-]*)
//	."any name"    an object member with any name, written as a JSON string
//	[N]            the array element at index N
//	[*]            any array element
//	..name         a member called name at any depth below (recursive descent);
//	               .."any name" works too
//	[field=value]  the element of an array compared as a keyed set whose key
//	               member field has value: a JSON string, number, true, false
//	               or null ($.orders[id=7], $.lines[sku="A-1"])
//
// A header path is header:Name, for example header:Content-Type; header
// names are case-insensitive and kept in canonical form.
//
// A concrete location inside a JSON document is a slice of Steps (member
// names and indices). Path.Matches and Set.Match decide whether a pattern
// covers a location; Format renders a location as a path such as
// $.items[3].price, which Parse accepts again.
//
// The package knows nothing about JSON decoding or comparison rules: it does
// not walk documents, and it does not decide what a match means (ignore,
// tolerance); the compare package does.
package fieldpath
