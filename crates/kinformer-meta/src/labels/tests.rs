//! Tables of label selectors: parse, match, print, and every kind of invalid input.

use super::*;

/// Selector, canonical form, labels that match, labels that do not.
type Row<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, &'a str)],
);

fn labels(pairs: &[(&str, &str)]) -> StringMap {
    pairs.iter().copied().collect()
}

#[test]
fn valid_selectors_parse_match_and_print_canonically() {
    let table: &[Row] = &[
        ("", "", &[("a", "b")], &[]),
        ("  ", "", &[], &[]),
        ("a=b", "a=b", &[("a", "b")], &[("a", "c")]),
        ("a==b", "a==b", &[("a", "b")], &[]),
        ("a!=b", "a!=b", &[], &[("a", "b")]),
        ("a!=b", "a!=b", &[("a", "c")], &[("a", "b")]),
        ("a", "a", &[("a", "")], &[("b", "x")]),
        ("!a", "!a", &[("b", "x")], &[("a", "")]),
        ("a in (y,x)", "a in (x,y)", &[("a", "y")], &[("a", "z")]),
        ("a in (x,x,y)", "a in (x,y)", &[("a", "x")], &[]),
        ("a notin (x)", "a notin (x)", &[("b", "x")], &[("a", "x")]),
        ("a notin (x)", "a notin (x)", &[("a", "y")], &[("a", "x")]),
        (
            " b = 2 , a in ( x , y ) ",
            "a in (x,y),b=2",
            &[("a", "x"), ("b", "2")],
            &[("a", "x"), ("b", "3")],
        ),
        (
            "z,!y,x!=1",
            "x!=1,!y,z",
            &[("z", "1")],
            &[("z", "1"), ("y", "1")],
        ),
        ("a=", "a=", &[("a", "")], &[("a", "x")]),
        ("a in (x,)", "a in (,x)", &[("a", "")], &[("a", "y")]),
        ("a=in", "a=in", &[("a", "in")], &[]),
        ("a in (in,notin)", "a in (in,notin)", &[("a", "notin")], &[]),
        (
            "example.com/tier=web",
            "example.com/tier=web",
            &[("example.com/tier", "web")],
            &[("tier", "web")],
        ),
        ("a>1", "a>1", &[("a", "2")], &[("a", "1")]),
        ("a<1", "a<1", &[("a", "-3")], &[("a", "x")]),
        ("a\t=\nb", "a=b", &[("a", "b")], &[]),
    ];
    for (input, canonical, matching, not_matching) in table {
        let selector = Selector::parse(input)
            .unwrap_or_else(|error| panic!("{input:?} should parse: {error}"));
        assert_eq!(selector.to_string(), *canonical, "printing {input:?}");
        assert!(
            selector.matches(&labels(matching)),
            "{input:?} should match {matching:?}"
        );
        if !canonical.is_empty() {
            assert!(
                !selector.matches(&labels(not_matching)),
                "{input:?} should not match {not_matching:?}"
            );
        }
        let reparsed = Selector::parse(&selector.to_string()).unwrap();
        assert_eq!(
            reparsed, selector,
            "canonical form of {input:?} reparses equal"
        );
    }
}

#[test]
fn invalid_selectors_name_position_and_problem() {
    let long_value = "v".repeat(64);
    let long_name = "n".repeat(64);
    let long_prefix = format!("{}/a", "p".repeat(254));
    let too_long_value = format!("a={long_value}");
    let too_long_key = format!("{long_name}=x");
    let too_long_prefix = format!("{long_prefix}=x");
    // (selector, position, a fragment of the problem)
    let table: &[(&str, usize, &str)] = &[
        ("a in ()", 6, "values set can't be empty"),
        ("a notin ( )", 10, "values set can't be empty"),
        ("a in (x", 7, "unbalanced"),
        ("a in (x,y", 9, "unbalanced"),
        ("a in x", 5, "expected: '('"),
        ("a in (x y)", 8, "expected: ',' or ')'"),
        ("a in ((x)", 6, "expected: ',', ')' or identifier"),
        ("a=b)", 3, "expected: ',' or 'end of string'"),
        ("(a)", 0, "expected: !, identifier"),
        ("a=b,", 4, "identifier after ','"),
        ("a=b,,c", 4, "identifier after ','"),
        ("a b", 2, "expected: in, notin"),
        ("!", 1, "expected: identifier"),
        ("!a=b", 2, "expected: ',' or 'end of string'"),
        ("a=b=c", 3, "expected: ',' or 'end of string'"),
        ("a=(b)", 2, "expected: identifier"),
        ("a$=b", 1, "key name part"),
        ("-a=b", 0, "key name part"),
        ("a-=b", 1, "key name part"),
        ("a=b$c", 3, "label value"),
        ("a=-b", 2, "label value"),
        ("a in (x,y%)", 9, "label value"),
        ("x=é", 2, "label value"),
        (&too_long_value, 2, "no more than 63"),
        (&too_long_key, 0, "no more than 63"),
        (&too_long_prefix, 0, "no more than 253"),
        ("Example.com/a=b", 0, "prefix part"),
        ("example..com/a=b", 8, "prefix part"),
        ("/a=b", 0, "prefix part must be non-empty"),
        ("x, example.com/=b", 15, "name part must be non-empty"),
        ("a/b/c=d", 3, "one '/'"),
        ("a>x", 2, "must be an integer"),
        ("a in (x),b notin", 16, "expected: '('"),
    ];
    for (input, position, fragment) in table {
        match Selector::parse(input) {
            Err(Error::InvalidSelector {
                selector,
                position: found,
                problem,
            }) => {
                assert_eq!(&selector, input);
                assert_eq!(found, *position, "position for {input:?}: {problem}");
                assert!(
                    problem.contains(fragment),
                    "problem for {input:?} was {problem:?}"
                );
            }
            other => panic!("{input:?} should be invalid, got {other:?}"),
        }
    }
}

#[test]
fn label_selector_object_converts_to_an_equivalent_selector() {
    let object: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
            {"key": "env", "operator": "NotIn", "values": ["dev"]}
        ]
    }))
    .unwrap();
    let selector = Selector::try_from(&object).unwrap();
    assert_eq!(
        selector.to_string(),
        "app=web,!canary,env notin (dev),tier in (a,b),zone"
    );
    assert!(selector.matches(&labels(&[("app", "web"), ("tier", "a"), ("zone", "1")])));
    assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "c"), ("zone", "1")])));
    assert!(Selector::try_from(&LabelSelector::default())
        .unwrap()
        .is_everything());
}

#[test]
fn label_selector_with_unknown_operator_or_bad_values_is_rejected() {
    let bad_operator: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
    }))
    .unwrap();
    let error = Selector::try_from(&bad_operator).unwrap_err();
    assert!(error
        .to_string()
        .contains("not a valid label selector operator"));

    let empty_in: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
    }))
    .unwrap();
    assert!(Selector::try_from(&empty_in).is_err());

    let exists_with_values: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
    }))
    .unwrap();
    assert!(Selector::try_from(&exists_with_values).is_err());

    let bad_label = LabelSelector {
        match_labels: StringMap::from([("a", "b c")]),
        match_expressions: Vec::new(),
    };
    assert!(Selector::try_from(&bad_label).is_err());
}

#[test]
fn exact_match_is_reported_only_for_single_value_equality() {
    let selector = Selector::parse("a=1,b in (2),c in (3,4),d!=5").unwrap();
    assert_eq!(selector.requires_exact_match("a"), Some("1"));
    assert_eq!(selector.requires_exact_match("b"), Some("2"));
    assert_eq!(selector.requires_exact_match("c"), None);
    assert_eq!(selector.requires_exact_match("d"), None);
    assert_eq!(selector.requires_exact_match("e"), None);
}

#[test]
fn built_selectors_stay_sorted_and_match_through_a_lookup_function() {
    let selector = Selector::from_labels(&labels(&[("b", "2"), ("a", "1")]))
        .unwrap()
        .with_requirement(Requirement::new("aa", Operator::NotIn, vec!["x".into()]).unwrap());
    assert_eq!(selector.to_string(), "a=1,aa notin (x),b=2");
    assert!(selector.matches_with(|key| match key {
        "a" => Some("1"),
        "b" => Some("2"),
        _ => None,
    }));
    assert!(Requirement::new("a", Operator::Equals, vec![]).is_err());
    assert!(Requirement::new("bad key", Operator::Exists, vec![]).is_err());
}

#[test]
fn every_built_requirement_prints_in_a_form_that_parses_back_equal() {
    let keys = ["a", "app.kubernetes.io/name", "x-1_2.b", "in0"];
    let value_sets: &[&[&str]] = &[&["v"], &["", "z"], &["b", "a", "b"], &["in", "notin"]];
    let operators = [
        Operator::Equals,
        Operator::DoubleEquals,
        Operator::NotEquals,
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
        Operator::GreaterThan,
        Operator::LessThan,
    ];
    let mut checked = 0;
    for key in keys {
        for operator in operators {
            for values in value_sets {
                let values: Vec<String> = match operator {
                    Operator::Exists | Operator::DoesNotExist => Vec::new(),
                    Operator::GreaterThan | Operator::LessThan => vec!["-7".to_owned()],
                    Operator::In | Operator::NotIn => {
                        values.iter().map(|v| v.to_string()).collect()
                    }
                    _ => vec![values[0].to_owned()],
                };
                let requirement = Requirement::new(key, operator, values).unwrap();
                let selector = Selector::everything().with_requirement(requirement.clone());
                let printed = selector.to_string();
                let parsed = Selector::parse(&printed)
                    .unwrap_or_else(|error| panic!("{printed:?} should parse: {error}"));
                assert_eq!(parsed.requirements(), [requirement], "{printed:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, keys.len() * operators.len() * value_sets.len());
}
